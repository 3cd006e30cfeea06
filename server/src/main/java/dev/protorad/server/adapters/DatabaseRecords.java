package dev.protorad.server.adapters;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.TimeZone;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Stream;
import javax.sql.DataSource;

/**
 * Version records in a database every replica shares (tables {@code adapter_versions} and {@code
 * adapter_aliases} of the prediction schema), with each version's files content-addressed on the
 * shared volume: {@code <root>/blobs/<content_hash>/}.
 *
 * <p>A version's files are staged in {@code blobs/.tmp-*}, forced to disk and renamed to their hash
 * (a version whose files some earlier version already has reuses them); only then is its row
 * inserted, so a row never names missing files. Numbers are decided by the insert itself: the
 * primary key {@code (name, version)} refuses a number another replica took a moment before, and
 * the insert is retried with the next. Alias moves and archiving lock the version's row ({@code
 * SELECT ... FOR UPDATE}), so that an alias never lands on a version being archived. Staging
 * directories are removed on opening only when a day old: a replica starting during another's save
 * leaves that save alone.
 */
final class DatabaseRecords implements VersionRecords {

  static final String BLOBS = "blobs";

  /** Staging directories older than this are an interrupted save's. */
  static final Duration STALE_STAGING = Duration.ofDays(1);

  private static final String UNIQUE_VIOLATION = "23505";
  private static final int MAX_ATTEMPTS = 20;

  private final Path blobs;
  private final DataSource db;
  private final Clock clock;

  private DatabaseRecords(Path blobs, DataSource db, Clock clock) {
    this.blobs = blobs;
    this.db = db;
    this.clock = clock;
  }

  /** The records in {@code db} (its schema migrated), with files under {@code root/blobs}. */
  static DatabaseRecords open(Path root, DataSource db, Clock clock) throws IOException {
    Path blobs = Files.createDirectories(root.resolve(BLOBS));
    Instant cutoff = clock.instant().minus(STALE_STAGING);
    try (Stream<Path> s = Files.list(blobs)) {
      for (Path p : s.toList()) {
        if (p.getFileName().toString().startsWith(FileRecords.TEMP_PREFIX)
            && Files.getLastModifiedTime(p).toInstant().isBefore(cutoff)) {
          DurableFiles.deleteTree(p);
        }
      }
    }
    return new DatabaseRecords(blobs, db, clock);
  }

  @Override
  public int add(String name, Contents files, Metadata metadata) throws IOException {
    Path staged = Files.createDirectory(blobs.resolve(FileRecords.TEMP_PREFIX + UUID.randomUUID()));
    String hash;
    try {
      hash = files.write(staged);
      DurableFiles.forceAll(staged);
      publish(staged, hash);
    } finally {
      DurableFiles.deleteTree(staged);
    }
    for (int attempt = 1; ; attempt++) {
      try (Connection c = db.getConnection()) {
        int version = nextVersion(c, name);
        insert(c, name, version, hash, metadata.json(version, hash));
        return version;
      } catch (SQLException e) {
        if (!UNIQUE_VIOLATION.equals(e.getSQLState()) || attempt == MAX_ATTEMPTS) {
          throw unavailable(e);
        }
      }
    }
  }

  @Override
  public boolean seed(String name, int version, Path dir, String contentHash, String metadataJson)
      throws IOException {
    if (versions(name).contains(version)) {
      return false;
    }
    Path staged = Files.createDirectory(blobs.resolve(FileRecords.TEMP_PREFIX + UUID.randomUUID()));
    try {
      DurableFiles.copyFiles(dir, staged);
      Files.deleteIfExists(staged.resolve(AdapterStore.METADATA_FILE));
      DurableFiles.forceAll(staged);
      publish(staged, contentHash);
    } finally {
      DurableFiles.deleteTree(staged);
    }
    try (Connection c = db.getConnection()) {
      insert(c, name, version, contentHash, metadataJson);
      return true;
    } catch (SQLException e) {
      if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
        return false;
      }
      throw unavailable(e);
    }
  }

  /** Renames {@code staged} to its hash, unless a version with the same files put them there. */
  private void publish(Path staged, String hash) throws IOException {
    Path target = blobs.resolve(hash);
    if (Files.isDirectory(target)) {
      return;
    }
    try {
      DurableFiles.move(staged, target);
    } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
      if (!Files.isDirectory(target)) {
        throw e;
      }
    }
    DurableFiles.force(blobs);
  }

  private static int nextVersion(Connection c, String name) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM adapter_versions WHERE name = ?")) {
      s.setString(1, name);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getInt(1);
      }
    }
  }

  private void insert(Connection c, String name, int version, String hash, String metadata)
      throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "INSERT INTO adapter_versions (name, version, content_hash, metadata, archived,"
                + " created_at) VALUES (?, ?, ?, ?, FALSE, ?)")) {
      s.setString(1, name);
      s.setInt(2, version);
      s.setString(3, hash);
      s.setString(4, metadata);
      s.setTimestamp(5, Timestamp.from(clock.instant()), utc());
      s.executeUpdate();
    }
  }

  @Override
  public List<String> names() {
    return query(
        "SELECT DISTINCT name FROM adapter_versions ORDER BY name", s -> {}, r -> r.getString(1));
  }

  @Override
  public List<Integer> versions(String name) {
    return query(
        "SELECT version FROM adapter_versions WHERE name = ? ORDER BY version",
        s -> s.setString(1, name),
        r -> r.getInt(1));
  }

  @Override
  public Stored get(String name, int version) {
    List<Stored> found =
        query(
            "SELECT metadata, content_hash FROM adapter_versions WHERE name = ? AND version = ?",
            s -> {
              s.setString(1, name);
              s.setInt(2, version);
            },
            r -> new Stored(r.getString(1), blobs.resolve(r.getString(2))));
    if (found.isEmpty()) {
      throw new NoSuchElementException(VersionRecords.notFound(name, version));
    }
    return found.get(0);
  }

  @Override
  public State state(String name) {
    Map<String, Integer> aliases = new TreeMap<>();
    query(
            "SELECT alias, version FROM adapter_aliases WHERE name = ?",
            s -> s.setString(1, name),
            r -> Map.entry(r.getString(1), r.getInt(2)))
        .forEach(e -> aliases.put(e.getKey(), e.getValue()));
    Set<Integer> archived =
        new TreeSet<>(
            query(
                "SELECT version FROM adapter_versions WHERE name = ? AND archived",
                s -> s.setString(1, name),
                r -> r.getInt(1)));
    return new State(aliases, archived);
  }

  @Override
  public int setAlias(String name, String alias, int version) throws IOException {
    for (int attempt = 1; ; attempt++) {
      try (Connection c = db.getConnection()) {
        return transaction(c, () -> moveAlias(c, name, alias, version));
      } catch (SQLException e) {
        if (!UNIQUE_VIOLATION.equals(e.getSQLState()) || attempt == MAX_ATTEMPTS) {
          throw unavailable(e);
        }
      }
    }
  }

  private int moveAlias(Connection c, String name, String alias, int version) throws SQLException {
    if (lockVersion(c, name, version)) {
      throw new IllegalStateException(VersionRecords.archivedTarget(name, version));
    }
    Optional<Integer> previous;
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT version FROM adapter_aliases WHERE name = ? AND alias = ? FOR UPDATE")) {
      s.setString(1, name);
      s.setString(2, alias);
      try (ResultSet r = s.executeQuery()) {
        previous = r.next() ? Optional.of(r.getInt(1)) : Optional.empty();
      }
    }
    String sql =
        previous.isPresent()
            ? "UPDATE adapter_aliases SET version = ?, moved_at = ? WHERE name = ? AND alias = ?"
            : "INSERT INTO adapter_aliases (version, moved_at, name, alias) VALUES (?, ?, ?, ?)";
    try (PreparedStatement s = c.prepareStatement(sql)) {
      s.setInt(1, version);
      s.setTimestamp(2, Timestamp.from(clock.instant()), utc());
      s.setString(3, name);
      s.setString(4, alias);
      s.executeUpdate();
    }
    return previous.orElse(0);
  }

  @Override
  public void archive(String name, int version) throws IOException {
    try (Connection c = db.getConnection()) {
      transaction(
          c,
          () -> {
            lockVersion(c, name, version);
            List<String> aliases = new ArrayList<>();
            try (PreparedStatement s =
                c.prepareStatement(
                    "SELECT alias FROM adapter_aliases WHERE name = ? AND version = ?"
                        + " ORDER BY alias")) {
              s.setString(1, name);
              s.setInt(2, version);
              try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                  aliases.add(r.getString(1));
                }
              }
            }
            if (!aliases.isEmpty()) {
              throw new IllegalStateException(
                  VersionRecords.stillAliased(name, version, aliases.get(0)));
            }
            try (PreparedStatement s =
                c.prepareStatement(
                    "UPDATE adapter_versions SET archived = TRUE WHERE name = ? AND version = ?")) {
              s.setString(1, name);
              s.setInt(2, version);
              s.executeUpdate();
            }
            return version;
          });
    } catch (SQLException e) {
      throw unavailable(e);
    }
  }

  /**
   * Locks the row of {@code name@version} until the transaction ends and says whether it is
   * archived.
   *
   * @throws NoSuchElementException when there is no such version
   */
  private static boolean lockVersion(Connection c, String name, int version) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT archived FROM adapter_versions WHERE name = ? AND version = ? FOR UPDATE")) {
      s.setString(1, name);
      s.setInt(2, version);
      try (ResultSet r = s.executeQuery()) {
        if (!r.next()) {
          throw new NoSuchElementException(VersionRecords.notFound(name, version));
        }
        return r.getBoolean(1);
      }
    }
  }

  private static <T> T transaction(Connection c, SqlSupplier<T> work) throws SQLException {
    c.setAutoCommit(false);
    try {
      T result = work.get();
      c.commit();
      return result;
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
  }

  private <T> List<T> query(String sql, Binder bind, Row<T> row) {
    try (Connection c = db.getConnection();
        PreparedStatement s = c.prepareStatement(sql)) {
      bind.bind(s);
      List<T> out = new ArrayList<>();
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          out.add(row.read(r));
        }
      }
      return out;
    } catch (SQLException e) {
      throw new UncheckedIOException(unavailable(e));
    }
  }

  /** The SQL state only: statements and values stay out of messages. */
  private static IOException unavailable(SQLException e) {
    return new IOException("adapter registry database: SQL state " + e.getSQLState(), e);
  }

  private static Calendar utc() {
    return Calendar.getInstance(TimeZone.getTimeZone("UTC"));
  }

  @FunctionalInterface
  private interface SqlSupplier<T> {
    T get() throws SQLException;
  }

  @FunctionalInterface
  private interface Binder {
    void bind(PreparedStatement s) throws SQLException;
  }

  @FunctionalInterface
  private interface Row<T> {
    T read(ResultSet r) throws SQLException;
  }
}
