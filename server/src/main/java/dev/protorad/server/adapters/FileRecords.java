package dev.protorad.server.adapters;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * Version records in files: {@code <root>/<name>/<version>/} holds a version's files with its
 * {@code metadata.json}; {@code <root>/<name>/state.json} holds the aliases and archive marks.
 *
 * <p>A version is staged in a temporary directory beside its final place and published by one
 * atomic rename; the state file is replaced the same way. Writers are serialized within a process
 * and, through a file lock on {@code .lock} in the root, across the processes sharing it (the CLI,
 * replicas on one volume). Readers take no lock: version directories never change once in place.
 */
final class FileRecords implements VersionRecords {

  static final String STATE_FILE = "state.json";
  static final String TEMP_PREFIX = ".tmp-";
  static final String LOCK_FILE = ".lock";

  /**
   * One lock per store directory in this process: the file lock below is held per process, and two
   * stores of one process on one directory would otherwise overlap on it.
   */
  private static final ConcurrentMap<Path, ReentrantLock> PROCESS_LOCKS = new ConcurrentHashMap<>();

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Path root;
  private final ReentrantLock processLock;

  private FileRecords(Path root, ReentrantLock processLock) {
    this.root = root;
    this.processLock = processLock;
  }

  /**
   * The records under {@code root}, deleting what an interrupted save left behind: under the write
   * lock, so never a live save's files.
   */
  static FileRecords open(Path root) throws IOException {
    Files.createDirectories(root);
    FileRecords records =
        new FileRecords(
            root, PROCESS_LOCKS.computeIfAbsent(root.toRealPath(), k -> new ReentrantLock()));
    records.locked(
        () -> {
          records.removeLeftovers();
          return records;
        });
    return records;
  }

  private Path stage(String name) throws IOException {
    Path nameDir = root.resolve(name);
    Files.createDirectories(nameDir);
    return Files.createDirectory(nameDir.resolve(TEMP_PREFIX + UUID.randomUUID()));
  }

  /** The whole save holds the write lock, so that no process opening the store removes it. */
  @Override
  public int add(String name, Contents files, Metadata metadata) throws IOException {
    return locked(
        () -> {
          int version = versions(name).stream().mapToInt(Integer::intValue).max().orElse(0) + 1;
          Path staged = stage(name);
          try {
            String hash = files.write(staged);
            publish(name, version, staged, metadata.json(version, hash));
          } finally {
            DurableFiles.deleteTree(staged);
          }
          return version;
        });
  }

  @Override
  public boolean seed(String name, int version, Path dir, String contentHash, String metadataJson)
      throws IOException {
    return locked(
        () -> {
          if (versions(name).contains(version)) {
            return false;
          }
          Path staged = stage(name);
          try {
            DurableFiles.copyFiles(dir, staged);
            publish(name, version, staged, metadataJson);
          } finally {
            DurableFiles.deleteTree(staged);
          }
          return true;
        });
  }

  private void publish(String name, int version, Path staged, String metadataJson)
      throws IOException {
    Files.writeString(staged.resolve(AdapterStore.METADATA_FILE), metadataJson);
    DurableFiles.forceAll(staged);
    DurableFiles.move(staged, versionDir(name, version));
    DurableFiles.force(root.resolve(name));
  }

  @Override
  public List<String> names() {
    try (Stream<Path> s = Files.list(root)) {
      return s.filter(Files::isDirectory)
          .map(p -> p.getFileName().toString())
          .filter(n -> AdapterRef.NAME.matcher(n).matches())
          .filter(n -> !versions(n).isEmpty())
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public List<Integer> versions(String name) {
    Path dir = root.resolve(name);
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> n.matches("[1-9][0-9]{0,8}"))
          .map(Integer::parseInt)
          .filter(v -> Files.isRegularFile(versionDir(name, v).resolve(AdapterStore.METADATA_FILE)))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public Stored get(String name, int version) {
    Path dir = versionDir(name, version);
    Path file = dir.resolve(AdapterStore.METADATA_FILE);
    if (!Files.isRegularFile(file)) {
      throw new NoSuchElementException(VersionRecords.notFound(name, version));
    }
    try {
      return new Stored(Files.readString(file), dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Path versionDir(String name, int version) {
    return root.resolve(name).resolve(Integer.toString(version));
  }

  @Override
  public State state(String name) {
    Path file = root.resolve(name).resolve(STATE_FILE);
    if (!Files.exists(file)) {
      return new State(Map.of(), Set.of());
    }
    try {
      JsonNode node = JSON.readTree(file.toFile());
      Map<String, Integer> aliases = new TreeMap<>();
      node.path("aliases").properties().forEach(e -> aliases.put(e.getKey(), e.getValue().asInt()));
      TreeSet<Integer> archived = new TreeSet<>();
      node.path("archived").forEach(v -> archived.add(v.asInt()));
      return new State(aliases, archived);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public int setAlias(String name, String alias, int version) throws IOException {
    return locked(
        () -> {
          requireVersion(name, version);
          State state = state(name);
          if (state.archived().contains(version)) {
            throw new IllegalStateException(VersionRecords.archivedTarget(name, version));
          }
          Map<String, Integer> aliases = new TreeMap<>(state.aliases());
          Integer previous = aliases.put(alias, version);
          writeState(name, new State(aliases, state.archived()));
          return previous == null ? 0 : previous;
        });
  }

  @Override
  public void archive(String name, int version) throws IOException {
    locked(
        () -> {
          requireVersion(name, version);
          State state = state(name);
          for (var e : state.aliases().entrySet()) {
            if (e.getValue() == version) {
              throw new IllegalStateException(
                  VersionRecords.stillAliased(name, version, e.getKey()));
            }
          }
          TreeSet<Integer> archived = new TreeSet<>(state.archived());
          archived.add(version);
          writeState(name, new State(state.aliases(), archived));
          return version;
        });
  }

  private void requireVersion(String name, int version) {
    if (!versions(name).contains(version)) {
      throw new NoSuchElementException(VersionRecords.notFound(name, version));
    }
  }

  private void writeState(String name, State state) throws IOException {
    ObjectNode node = JSON.createObjectNode();
    ObjectNode aliases = node.putObject("aliases");
    state.aliases().forEach(aliases::put);
    var archived = node.putArray("archived");
    state.archived().forEach(archived::add);
    Path dir = root.resolve(name);
    Path temp = dir.resolve(TEMP_PREFIX + UUID.randomUUID() + ".json");
    try {
      Files.writeString(temp, JSON.writeValueAsString(node));
      DurableFiles.force(temp);
      DurableFiles.move(temp, dir.resolve(STATE_FILE));
      DurableFiles.force(dir);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /**
   * Runs {@code write} holding this process's lock, then an exclusive file lock on {@code .lock},
   * which every process sharing the directory takes too. A save in progress holds the lock until
   * its version is in place, so the leftovers removed on opening are never a live save's.
   */
  private <T> T locked(IoSupplier<T> write) throws IOException {
    processLock.lock();
    try (FileChannel channel =
        FileChannel.open(
            root.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      FileLock held = channel.lock();
      try {
        return write.get();
      } finally {
        held.release();
      }
    } finally {
      processLock.unlock();
    }
  }

  @FunctionalInterface
  private interface IoSupplier<T> {
    T get() throws IOException;
  }

  private void removeLeftovers() throws IOException {
    try (Stream<Path> names = Files.list(root)) {
      for (Path nameDir : names.filter(Files::isDirectory).toList()) {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(nameDir, TEMP_PREFIX + "*")) {
          for (Path p : s) {
            DurableFiles.deleteTree(p);
          }
        }
      }
    }
  }
}
