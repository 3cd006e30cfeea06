package dev.protorad.server.adapters;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.protorad.clinical.gate.LexicalModel;
import dev.protorad.clinical.gate.ReviewGate;
import dev.protorad.clinical.gate.VersionGate;
import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.engine.peft.LabelVocabulary;
import dev.protorad.engine.peft.LoraAdapter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * Adapter versions on disk: {@code <root>/<name>/<version>/} holds the PEFT files ({@code
 * adapter_config.json}, {@code adapter_model.safetensors}) and {@code metadata.json}; {@code
 * <root>/<name>/state.json} holds the aliases and the archived versions.
 *
 * <p>Crash safety: a version is written into a temporary directory beside its final place, every
 * file and the directory are forced to disk, and one atomic rename publishes it; the state file is
 * replaced the same way. A crash or a failure before the rename leaves only a temporary directory,
 * which {@link #open} deletes, so a version is either complete or absent. Versions are never
 * rewritten; aliases move only through {@link #setAlias}.
 *
 * <p>Safe to share: writers are serialized on the store within a process and, through a file lock
 * on {@code .lock} in its directory, across the processes that share it (replicas on one volume).
 * Readers take no lock: version directories never change once in place, and {@code state.json} is
 * replaced in one rename.
 */
public final class AdapterStore {

  /** Metadata file inside a version directory. */
  public static final String METADATA_FILE = "metadata.json";

  static final String STATE_FILE = "state.json";
  static final String TEMP_PREFIX = ".tmp-";
  static final String LOCK_FILE = ".lock";

  /**
   * One lock per store directory in this process: the file lock below is held per process, and two
   * stores of one process on one directory would otherwise overlap on it.
   */
  private static final ConcurrentMap<Path, ReentrantLock> PROCESS_LOCKS = new ConcurrentHashMap<>();

  static final List<String> PEFT_FILES = List.of(LoraAdapter.CONFIG_FILE, LoraAdapter.WEIGHTS_FILE);

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Path root;
  private final ModelConfig base;
  private final String baseFingerprint;
  private final Clock clock;
  private final ReentrantLock processLock;

  private AdapterStore(
      Path root, ModelConfig base, String baseFingerprint, Clock clock, Path realRoot) {
    this.root = root;
    this.base = base;
    this.baseFingerprint = baseFingerprint;
    this.clock = clock;
    this.processLock = PROCESS_LOCKS.computeIfAbsent(realRoot, k -> new ReentrantLock());
  }

  /**
   * Opens (creating if needed) the store under {@code root} for adapters of {@code base}, deleting
   * what an interrupted save left behind.
   */
  public static AdapterStore open(Path root, ModelConfig base, String baseFingerprint)
      throws IOException {
    return open(root, base, baseFingerprint, Clock.systemUTC());
  }

  /** As {@link #open(Path, ModelConfig, String)} with the clock that stamps new versions. */
  public static AdapterStore open(Path root, ModelConfig base, String baseFingerprint, Clock clock)
      throws IOException {
    requireNonNull(root, "root");
    requireNonNull(base, "base");
    requireNonNull(baseFingerprint, "baseFingerprint");
    requireNonNull(clock, "clock");
    Files.createDirectories(root);
    AdapterStore store = new AdapterStore(root, base, baseFingerprint, clock, root.toRealPath());
    return store.locked(
        () -> {
          store.removeLeftovers();
          return store;
        });
  }

  /** The directory the store lives in. */
  public Path root() {
    return root;
  }

  /** The base architecture adapters are checked against. */
  public ModelConfig base() {
    return base;
  }

  /** The base fingerprint new versions record. */
  public String baseFingerprint() {
    return baseFingerprint;
  }

  /**
   * Registers {@code adapter} as the next version of {@code name}.
   *
   * @return the new version
   * @throws IOException when writing fails; then no version is registered
   */
  public AdapterVersion register(String name, LoraAdapter adapter, Lineage lineage)
      throws IOException {
    return register(name, adapter, lineage, null);
  }

  /**
   * Registers {@code adapter} as the next version of {@code name}, with a review gate fitted for
   * it: the gate's parameters go into {@code metadata.json} and its lexical model beside the PEFT
   * files (both covered by the content hash).
   *
   * @param gate the gate, or null for a version that uses the server's review threshold
   */
  public synchronized AdapterVersion register(
      String name, LoraAdapter adapter, Lineage lineage, @Nullable VersionGate gate)
      throws IOException {
    AdapterRef.requireName(name);
    requireNonNull(adapter, "adapter");
    requireNonNull(lineage, "lineage");
    return locked(() -> write(name, adapter, lineage, gate));
  }

  private AdapterVersion write(
      String name, LoraAdapter adapter, Lineage lineage, @Nullable VersionGate gate)
      throws IOException {
    Path nameDir = root.resolve(name);
    Files.createDirectories(nameDir);
    int version = versions(name).stream().mapToInt(Integer::intValue).max().orElse(0) + 1;
    Path temp = nameDir.resolve(TEMP_PREFIX + UUID.randomUUID());
    try {
      adapter.write(temp);
      if (gate != null) {
        gate.lexical().write(temp.resolve(LexicalModel.FILE));
      }
      String hash = contentHash(temp);
      AdapterMetadata metadata = metadata(name, version, hash, recording(lineage, adapter));
      Files.writeString(
          temp.resolve(METADATA_FILE), toJson(metadata, gate == null ? null : gate.gate()));
      forceAll(temp);
      Path target = nameDir.resolve(Integer.toString(version));
      move(temp, target);
      force(nameDir);
      return describe(name, version);
    } finally {
      deleteTree(temp);
    }
  }

  /**
   * Validates the PEFT files in {@code dir} against the base (as the engine does: pickle, NaN/Inf,
   * shape mismatches and unsupported options are refused) and registers them as the next version.
   */
  public AdapterVersion importAdapter(String name, Path dir, Lineage lineage) throws IOException {
    requireNonNull(dir, "dir");
    LoraAdapter adapter = read(dir, base);
    return register(name, adapter, lineage);
  }

  /**
   * Reads the PEFT files of {@code ref}, with the label vocabulary its metadata records (an adapter
   * trained with a label-vocabulary softmax).
   */
  public LoraAdapter load(AdapterRef ref) throws IOException {
    AdapterVersion v = get(ref);
    // The version's metadata is already read: only the PEFT files come from disk here.
    return withRecordedVocabulary(
        LoraAdapter.read(v.dir(), base), v.metadata().hyperParameters(), v.dir());
  }

  /**
   * Reads the adapter in {@code dir} (a version directory, or bare PEFT files) for {@code base},
   * with the label vocabulary its {@code metadata.json} records, if any.
   *
   * @throws IOException also when the recorded vocabulary cannot be read
   */
  public static LoraAdapter read(Path dir, ModelConfig base) throws IOException {
    LoraAdapter adapter = LoraAdapter.read(dir, base);
    Path file = dir.resolve(METADATA_FILE);
    if (!Files.isRegularFile(file)) {
      return adapter;
    }
    return withRecordedVocabulary(adapter, fromJson(Files.readString(file)).hyperParameters(), dir);
  }

  private static LoraAdapter withRecordedVocabulary(
      LoraAdapter adapter, Map<String, String> hyperParameters, Path dir) throws IOException {
    try {
      return adapter.withLabelVocabulary(LabelVocabulary.recordedIn(hyperParameters).orElse(null));
    } catch (IllegalArgumentException e) {
      throw new IOException(dir.resolve(METADATA_FILE) + ": " + e.getMessage(), e);
    }
  }

  /**
   * {@code lineage} with the label vocabulary of {@code adapter} among its hyper-parameters when it
   * has one, so the version records what its labels are scored against.
   */
  private static Lineage recording(Lineage lineage, LoraAdapter adapter) {
    if (adapter.labelVocabulary().isEmpty()) {
      return lineage;
    }
    Map<String, String> hp = new LinkedHashMap<>(lineage.hyperParameters());
    hp.put(LabelVocabulary.HYPER_PARAMETER, adapter.labelVocabulary().get().recorded());
    return new Lineage(
        lineage.datasetHash(),
        hp,
        lineage.template(),
        lineage.metrics(),
        lineage.createdBy(),
        lineage.jobId(),
        lineage.parent());
  }

  /** The version {@code ref} names now (aliases and bare names resolved). */
  public synchronized AdapterVersion get(AdapterRef ref) {
    requireNonNull(ref, "ref");
    return describe(ref.name(), resolve(ref));
  }

  /** Every version, ordered by name then version; archived ones only when asked. */
  public synchronized List<AdapterVersion> list(Optional<String> name, boolean includeArchived) {
    requireNonNull(name, "name");
    List<AdapterVersion> out = new ArrayList<>();
    for (String n : names()) {
      if (name.isPresent() && !name.get().equals(n)) {
        continue;
      }
      State state = state(n);
      for (int v : versions(n)) {
        if (includeArchived || !state.archived().contains(v)) {
          out.add(describe(n, v));
        }
      }
    }
    return out;
  }

  /** The PEFT and metadata files of {@code ref}, for export. */
  public synchronized List<Path> files(AdapterRef ref) {
    Path dir = get(ref).dir();
    List<Path> out = new ArrayList<>();
    for (String f : PEFT_FILES) {
      out.add(dir.resolve(f));
    }
    out.add(dir.resolve(METADATA_FILE));
    return out;
  }

  /**
   * Points {@code alias} of {@code name} at {@code version}.
   *
   * @return the version it pointed at before, or 0
   * @throws NoSuchElementException when the version does not exist
   * @throws IllegalStateException when the version is archived
   */
  public synchronized int setAlias(String name, String alias, int version) throws IOException {
    AdapterRef.requireName(name);
    AdapterRef.requireAlias(alias);
    return locked(() -> moveAlias(name, alias, version));
  }

  private int moveAlias(String name, String alias, int version) throws IOException {
    requireVersion(name, version);
    State state = state(name);
    if (state.archived().contains(version)) {
      throw new IllegalStateException(name + "@" + version + " is archived");
    }
    Map<String, Integer> aliases = new TreeMap<>(state.aliases());
    Integer previous = aliases.put(alias, version);
    writeState(name, new State(aliases, state.archived()));
    return previous == null ? 0 : previous;
  }

  /**
   * Archives {@code ref}: its files stay for lineage, it stops resolving for serving.
   *
   * @throws IllegalStateException while an alias points at it
   */
  public synchronized AdapterVersion archive(AdapterRef ref) throws IOException {
    requireNonNull(ref, "ref");
    return locked(() -> archiveHeld(ref));
  }

  private AdapterVersion archiveHeld(AdapterRef ref) throws IOException {
    int version = resolve(ref);
    State state = state(ref.name());
    for (var e : state.aliases().entrySet()) {
      if (e.getValue() == version) {
        throw new IllegalStateException(
            ref.name() + "@" + version + " is aliased as " + e.getKey() + "; move the alias first");
      }
    }
    TreeSet<Integer> archived = new TreeSet<>(state.archived());
    archived.add(version);
    writeState(ref.name(), new State(state.aliases(), archived));
    return describe(ref.name(), version);
  }

  /**
   * Runs {@code write} holding the store's write lock: this process's, then an exclusive file lock
   * on {@code .lock} in the store directory, which every process sharing the directory (replicas on
   * one volume, the CLI) takes too. Version numbers, alias moves and archiving are therefore
   * decided one at a time across processes, and a save in progress holds the lock until its version
   * is in place, so the leftovers a store removes on opening are never a live save's.
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

  // ---- resolution ----

  private int resolve(AdapterRef ref) {
    State state = state(ref.name());
    if (ref.version() > 0) {
      requireVersion(ref.name(), ref.version());
      return ref.version();
    }
    if (ref.alias() != null) {
      Integer v = state.aliases().get(ref.alias());
      if (v == null) {
        throw new NoSuchElementException("adapter alias not found: " + ref);
      }
      return v;
    }
    Integer production = state.aliases().get("production");
    if (production != null) {
      return production;
    }
    return versions(ref.name()).stream()
        .filter(v -> !state.archived().contains(v))
        .max(Comparator.naturalOrder())
        .orElseThrow(() -> new NoSuchElementException("adapter not found: " + ref.name()));
  }

  private void requireVersion(String name, int version) {
    if (!versions(name).contains(version)) {
      throw new NoSuchElementException("adapter version not found: " + name + "@" + version);
    }
  }

  private AdapterVersion describe(String name, int version) {
    Path dir = root.resolve(name).resolve(Integer.toString(version));
    State state = state(name);
    List<String> aliases = new ArrayList<>();
    state
        .aliases()
        .forEach(
            (a, v) -> {
              if (v == version) {
                aliases.add(a);
              }
            });
    try {
      AdapterMetadata metadata = fromJson(Files.readString(dir.resolve(METADATA_FILE)));
      long size = 0;
      for (String f : PEFT_FILES) {
        size += Files.size(dir.resolve(f));
      }
      return new AdapterVersion(metadata, aliases, state.archived().contains(version), dir, size);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private List<String> names() {
    try (Stream<Path> s = Files.list(root)) {
      return s.filter(Files::isDirectory)
          .map(p -> p.getFileName().toString())
          .filter(n -> AdapterRef.NAME.matcher(n).matches())
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private List<Integer> versions(String name) {
    Path dir = root.resolve(name);
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> n.matches("[1-9][0-9]{0,8}"))
          .map(Integer::parseInt)
          .filter(v -> Files.isRegularFile(dir.resolve(v.toString()).resolve(METADATA_FILE)))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- state file ----

  private record State(Map<String, Integer> aliases, java.util.Set<Integer> archived) {}

  private State state(String name) {
    Path file = root.resolve(name).resolve(STATE_FILE);
    if (!Files.exists(file)) {
      return new State(Map.of(), java.util.Set.of());
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
      force(temp);
      move(temp, dir.resolve(STATE_FILE));
      force(dir);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  // ---- metadata ----

  private AdapterMetadata metadata(String name, int version, String hash, Lineage l) {
    PromptTemplate t = l.template();
    return new AdapterMetadata(
        name,
        version,
        hash,
        baseFingerprint,
        l.datasetHash(),
        l.hyperParameters(),
        t.version(),
        t.text(),
        t.labelSuffix(),
        l.metrics(),
        l.createdBy(),
        clock.instant(),
        l.jobId(),
        l.parent());
  }

  static String toJson(AdapterMetadata m) throws IOException {
    return toJson(m, null);
  }

  static String toJson(AdapterMetadata m, @Nullable ReviewGate gate) throws IOException {
    ObjectNode node = JSON.createObjectNode();
    node.put("name", m.name());
    node.put("version", m.version());
    node.put("content_hash", m.contentHash());
    node.put("base_fingerprint", m.baseFingerprint());
    node.put("dataset_hash", m.datasetHash());
    ObjectNode hp = node.putObject("hyper_parameters");
    new TreeMap<>(m.hyperParameters()).forEach(hp::put);
    ObjectNode template = node.putObject("prompt_template");
    template.put("version", m.promptTemplateVersion());
    template.put("text", m.promptTemplate());
    template.put("label_suffix", m.labelSuffix());
    ObjectNode metrics = node.putObject("metrics");
    new TreeMap<>(m.metrics()).forEach(metrics::put);
    node.put("created_by", m.createdBy());
    node.put("created_at", m.createdAt().toString());
    node.put("job_id", m.jobId());
    if (!m.parent().isEmpty()) {
      node.put("parent", m.parent());
    }
    if (gate != null) {
      gate.writeTo(node);
    }
    return JSON.writeValueAsString(node) + "\n";
  }

  /**
   * The prompt template version an adapter directory records in its {@code metadata.json}; null for
   * a bare PEFT directory without one ({@link PromptTemplate#select} decides then).
   */
  public static @Nullable String recordedTemplateVersion(Path dir) throws IOException {
    Path file = dir.resolve(METADATA_FILE);
    if (!Files.isRegularFile(file)) {
      return null;
    }
    return fromJson(Files.readString(file)).promptTemplateVersion();
  }

  static AdapterMetadata fromJson(String json) throws IOException {
    JsonNode n = JSON.readTree(json);
    Map<String, String> hp = new LinkedHashMap<>();
    n.path("hyper_parameters").properties().forEach(e -> hp.put(e.getKey(), e.getValue().asText()));
    Map<String, Double> metrics = new LinkedHashMap<>();
    n.path("metrics").properties().forEach(e -> metrics.put(e.getKey(), e.getValue().asDouble()));
    JsonNode t = n.path("prompt_template");
    return new AdapterMetadata(
        n.path("name").asText(),
        n.path("version").asInt(),
        n.path("content_hash").asText(),
        n.path("base_fingerprint").asText(),
        n.path("dataset_hash").asText(),
        hp,
        t.path("version").asText(),
        t.path("text").asText(),
        t.path("label_suffix").asText(),
        metrics,
        n.path("created_by").asText(),
        Instant.parse(n.path("created_at").asText()),
        n.path("job_id").asText(),
        n.path("parent").asText(""));
  }

  /**
   * SHA-256 over the PEFT files and, when there is one, the lexical model of the review gate: for
   * each, in name order, its name, a NUL, and its bytes.
   */
  static String contentHash(Path dir) throws IOException {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      TreeSet<String> files = new TreeSet<>(PEFT_FILES);
      if (Files.isRegularFile(dir.resolve(LexicalModel.FILE))) {
        files.add(LexicalModel.FILE);
      }
      for (String f : files) {
        sha.update(f.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
        sha.update(Files.readAllBytes(dir.resolve(f)));
      }
      return HexFormat.of().formatHex(sha.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---- files ----

  private void removeLeftovers() throws IOException {
    for (String name : names()) {
      try (DirectoryStream<Path> s =
          Files.newDirectoryStream(root.resolve(name), TEMP_PREFIX + "*")) {
        for (Path p : s) {
          deleteTree(p);
        }
      }
    }
  }

  private static void forceAll(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        force(p);
      }
    }
    force(dir);
  }

  /** Forces a file's or a directory's contents to disk. */
  static void force(Path p) throws IOException {
    if (Files.isDirectory(p)) {
      try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
        ch.force(true);
      } catch (IOException e) {
        // Some file systems refuse to open directories for fsync; the rename is still atomic.
      }
      return;
    }
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("file system cannot rename atomically: " + to.getParent(), e);
    }
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(x);
      }
    }
  }
}
