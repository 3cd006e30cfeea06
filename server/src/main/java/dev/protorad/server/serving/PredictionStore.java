package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.protorad.policy.BreakGlassGrant;
import dev.protorad.policy.BreakGlassGrants;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Calendar;
import java.util.List;
import java.util.Optional;
import java.util.TimeZone;
import javax.sql.DataSource;

/**
 * Predictions and their reviews in a JDBC database: an embedded H2 file by default, PostgreSQL when
 * configured; one schema for both. A prediction is reviewed at most once.
 *
 * <p>Note text is never stored in the clear. With a {@link NoteVault} the store keeps each note
 * sealed (AES-256-GCM, see the vault) in {@code prediction_notes}, written in the same transaction
 * as its prediction, so that reviewed predictions can become training data; without one it keeps no
 * note at all. Base64 text columns keep the schema identical on H2 and PostgreSQL.
 *
 * <p>Connections come from a small pool (HikariCP) that the store holds until {@link #close()}. A
 * new connection per call would reopen an embedded H2 database on every prediction answered (H2
 * closes it when its last connection closes; tens of milliseconds each), and would cost a TCP
 * connection and an authentication per call on PostgreSQL.
 */
public final class PredictionStore implements AutoCloseable {

  private static final Base64.Encoder BASE64 = Base64.getEncoder();
  private static final Base64.Decoder BASE64_DECODER = Base64.getDecoder();

  /** Connections held at most: RPC threads read concurrently; inserts go through one writer. */
  static final int POOL_SIZE = 8;

  private final HikariDataSource pool;
  private final Optional<NoteVault> notes;
  private final PredictionWriter writer;

  private PredictionStore(HikariDataSource pool, Optional<NoteVault> notes) {
    this.pool = pool;
    this.notes = notes;
    this.writer = new PredictionWriter("prediction-writer", this::insertAll);
  }

  /** Opens (and creates if needed) the store at {@code jdbcUrl}; it keeps no note text. */
  public static PredictionStore open(String jdbcUrl, String user, String password) {
    return open(jdbcUrl, user, password, Optional.empty());
  }

  /**
   * Opens (and creates if needed) the store at {@code jdbcUrl}; with a vault, each prediction's
   * note is kept sealed by it.
   */
  public static PredictionStore open(
      String jdbcUrl, String user, String password, Optional<NoteVault> notes) {
    return open(jdbcUrl, user, password, notes, true);
  }

  /**
   * Opens the store at {@code jdbcUrl}, applying the schema's migrations first if {@code
   * manageSchema} (the login then owns the tables); otherwise the schema's owner must have run
   * {@link PredictionSchema#migrate} before.
   */
  public static PredictionStore open(
      String jdbcUrl,
      String user,
      String password,
      Optional<NoteVault> notes,
      boolean manageSchema) {
    requireNonNull(jdbcUrl, "jdbcUrl");
    requireNonNull(notes, "notes");
    HikariConfig config = new HikariConfig();
    config.setPoolName("predictions");
    config.setJdbcUrl(jdbcUrl);
    config.setUsername(user);
    config.setPassword(password);
    config.setMaximumPoolSize(POOL_SIZE);
    config.setMinimumIdle(1);
    HikariDataSource pool;
    try {
      pool = new HikariDataSource(config);
    } catch (RuntimeException e) {
      SQLException cause =
          e.getCause() instanceof SQLException sql ? sql : new SQLException(e.getMessage(), e);
      throw new PredictionStoreException("cannot open the prediction database", cause);
    }
    PredictionStore store = new PredictionStore(pool, notes);
    try {
      if (manageSchema) {
        PredictionSchema.migrate(pool, Optional.empty());
      } else if (!PredictionSchema.isMigrated(pool)) {
        throw new PredictionStoreException(
            "prediction schema missing: run `protorad predictions migrate` as its owner first");
      }
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    return store;
  }

  /**
   * Rewrites the embedded H2 database at {@code jdbcUrl} with only its live data (H2's {@code
   * SHUTDOWN COMPACT}: into a new file that then replaces the old one), and closes it. The server
   * runs it before opening the store, while nothing else has the database open: the embedded store
   * appends every commit (see {@code ServingConfig#resolvedPredictionsJdbcUrl}), and this is where
   * the file gets its size back.
   *
   * @throws IllegalArgumentException when {@code jdbcUrl} is not an embedded H2 file database
   * @throws PredictionStoreException when the database cannot be opened or compacted
   */
  public static void compact(String jdbcUrl, String user, String password) {
    requireNonNull(jdbcUrl, "jdbcUrl");
    if (!jdbcUrl.startsWith("jdbc:h2:file:")) {
      throw new IllegalArgumentException(
          "jdbcUrl: not an embedded database (expected: jdbc:h2:file:...)");
    }
    try (Connection c = DriverManager.getConnection(jdbcUrl, user, password);
        Statement s = c.createStatement()) {
      s.execute("SHUTDOWN COMPACT");
    } catch (SQLException e) {
      throw new PredictionStoreException("cannot compact the prediction database", e);
    }
  }

  /**
   * Stores what inserts are waiting, then closes the pool's connections; on an embedded database
   * this closes the database.
   */
  @Override
  public void close() {
    writer.close();
    pool.close();
  }

  /**
   * Stores a new, unreviewed prediction and, when this store retains notes, its note sealed; both
   * or neither. Returns once they are committed: predictions inserted at the same time share one
   * transaction ({@link PredictionWriter}).
   *
   * @throws PredictionStoreException when it could not be stored (a duplicate id, the database
   *     unreachable) or the store is closed
   */
  public void insert(StoredPrediction p, String note) {
    insert(p, note, Optional.empty());
  }

  /**
   * As {@link #insert(StoredPrediction, String)}, kept under a caller's retry key when given one.
   *
   * @throws PredictionStoreException also when another prediction holds the same key ({@link
   *     PredictionStoreException#isDuplicateKey()}): a retry raced the first call
   */
  public void insert(StoredPrediction p, String note, Optional<Idempotency> idempotency) {
    requireNonNull(p, "p");
    requireNonNull(note, "note");
    requireNonNull(idempotency, "idempotency");
    Optional<SealedNote> sealed = notes.map(v -> v.seal(p.predictionId(), note));
    writer.insert(new PredictionWriter.Row(p, sealed, idempotency));
  }

  /** The prediction stored under a retry key, and the digest of the request that made it. */
  public record Keyed(StoredPrediction prediction, String requestDigest) {}

  /** The prediction stored under {@code keyDigest} ({@link Idempotency#keyDigest()}), if any. */
  public Optional<Keyed> findByIdempotencyKey(String keyDigest) {
    requireNonNull(keyDigest, "keyDigest");
    try (Connection c = connect();
        PreparedStatement s =
            c.prepareStatement("SELECT * FROM predictions WHERE idempotency_key = ?")) {
      s.setString(1, keyDigest);
      try (ResultSet r = s.executeQuery()) {
        return r.next()
            ? Optional.of(new Keyed(read(r), r.getString("request_digest")))
            : Optional.empty();
      }
    } catch (SQLException e) {
      throw new PredictionStoreException("cannot read prediction", e);
    }
  }

  /**
   * Stored predictions that {@code filter} matches, oldest first (then by id), starting after
   * {@code after}: at most {@code limit} of them.
   */
  public List<StoredPrediction> list(
      PredictionFilter filter, Optional<PredictionFilter.Cursor> after, int limit) {
    requireNonNull(filter, "filter");
    requireNonNull(after, "after");
    StringBuilder sql = new StringBuilder("SELECT * FROM predictions WHERE 1 = 1");
    List<SqlValue> values = new ArrayList<>();
    filter
        .needsReview()
        .ifPresent(
            v -> {
              sql.append(" AND needs_review = ?");
              values.add((s, i) -> s.setBoolean(i, v));
            });
    filter
        .reviewed()
        .ifPresent(v -> sql.append(v ? " AND reviewer IS NOT NULL" : " AND reviewer IS NULL"));
    filter.createdAfter().ifPresent(t -> condition(sql, values, " AND created_at >= ?", t));
    filter.createdBefore().ifPresent(t -> condition(sql, values, " AND created_at < ?", t));
    filter
        .adapter()
        .ifPresent(
            a -> {
              boolean exact = a.contains("@");
              sql.append(
                  exact ? " AND adapter_version = ?" : " AND adapter_version LIKE ? ESCAPE '!'");
              String value = exact ? a : a.replace("!", "!!").replace("_", "!_") + "@%";
              values.add((s, i) -> s.setString(i, value));
            });
    filter
        .orderId()
        .ifPresent(
            o -> {
              sql.append(" AND order_id = ?");
              values.add((s, i) -> s.setString(i, o));
            });
    after.ifPresent(
        c -> {
          condition(sql, values, " AND (created_at > ?", c.createdAt());
          condition(sql, values, " OR (created_at = ?", c.createdAt());
          sql.append(" AND prediction_id > ?))");
          values.add((s, i) -> s.setString(i, c.predictionId()));
        });
    sql.append(" ORDER BY created_at, prediction_id LIMIT ?");
    values.add((s, i) -> s.setInt(i, limit));
    try (Connection c = connect();
        PreparedStatement s = c.prepareStatement(sql.toString())) {
      for (int i = 0; i < values.size(); i++) {
        values.get(i).bind(s, i + 1);
      }
      List<StoredPrediction> out = new ArrayList<>();
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          out.add(read(r));
        }
      }
      return out;
    } catch (SQLException e) {
      throw new PredictionStoreException("cannot list predictions", e);
    }
  }

  private static void condition(
      StringBuilder sql, List<SqlValue> values, String clause, Instant time) {
    sql.append(clause);
    values.add((s, i) -> s.setTimestamp(i, Timestamp.from(time), utc()));
  }

  @FunctionalInterface
  private interface SqlValue {
    void bind(PreparedStatement s, int index) throws SQLException;
  }

  /** Whether this store keeps each prediction's note, sealed. */
  public boolean keepsNotes() {
    return notes.isPresent();
  }

  /**
   * The note {@code predictionId} was made from, opened; empty when there is no such prediction,
   * this store keeps no notes, or the note has expired.
   *
   * @throws NoteVault.OpenException when the kept note does not authenticate
   */
  public Optional<String> note(String predictionId) throws NoteVault.OpenException {
    requireNonNull(predictionId, "predictionId");
    if (notes.isEmpty()) {
      return Optional.empty();
    }
    Optional<SealedNote> sealed;
    try (Connection c = connect();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT key_id, nonce, ciphertext FROM prediction_notes WHERE prediction_id = ?")) {
      s.setString(1, predictionId);
      try (ResultSet r = s.executeQuery()) {
        sealed = r.next() ? readNote(r) : Optional.empty();
      }
    } catch (SQLException e) {
      throw new PredictionStoreException("cannot read a kept note", e);
    }
    if (sealed.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(notes.get().open(predictionId, sealed.get()));
  }

  /**
   * The database the store works in, for records that share it and are migrated with its schema
   * (the adapter registry's tables).
   */
  public DataSource database() {
    return pool;
  }

  /**
   * Break-glass grants kept in this database, so that every replica sharing it sees the grants any
   * of them opened, and a revocation on one ends the grant on all.
   */
  public BreakGlassGrants breakGlassGrants() {
    return new SharedGrants();
  }

  private final class SharedGrants implements BreakGlassGrants {
    @Override
    public void add(BreakGlassGrant g) {
      try (Connection c = connect()) {
        c.setAutoCommit(false);
        try (PreparedStatement expired =
                c.prepareStatement("DELETE FROM break_glass_grants WHERE expires_at <= ?");
            PreparedStatement insert =
                c.prepareStatement(
                    "INSERT INTO break_glass_grants (grant_id, principal_id, on_behalf_of,"
                        + " reason, opened_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)")) {
          expired.setTimestamp(1, Timestamp.from(g.openedAt()), utc());
          expired.executeUpdate();
          insert.setString(1, g.id());
          insert.setString(2, g.principalId());
          insert.setString(3, g.onBehalfOf());
          insert.setString(4, g.reason());
          insert.setTimestamp(5, Timestamp.from(g.openedAt()), utc());
          insert.setTimestamp(6, Timestamp.from(g.expiresAt()), utc());
          insert.executeUpdate();
          c.commit();
        } catch (SQLException e) {
          c.rollback();
          throw e;
        }
      } catch (SQLException e) {
        throw new PredictionStoreException("cannot store a break-glass grant", e);
      }
    }

    @Override
    public List<BreakGlassGrant> active(Instant now) {
      String sql =
          "SELECT * FROM break_glass_grants WHERE opened_at <= ? AND expires_at > ?"
              + " ORDER BY opened_at, grant_id";
      List<BreakGlassGrant> out = new ArrayList<>();
      try (Connection c = connect();
          PreparedStatement s = c.prepareStatement(sql)) {
        s.setTimestamp(1, Timestamp.from(now), utc());
        s.setTimestamp(2, Timestamp.from(now), utc());
        try (ResultSet r = s.executeQuery()) {
          while (r.next()) {
            out.add(
                new BreakGlassGrant(
                    r.getString("grant_id"),
                    r.getString("principal_id"),
                    r.getString("on_behalf_of"),
                    r.getString("reason"),
                    r.getTimestamp("opened_at", utc()).toInstant(),
                    r.getTimestamp("expires_at", utc()).toInstant()));
          }
        }
        return out;
      } catch (SQLException e) {
        throw new PredictionStoreException("cannot read break-glass grants", e);
      }
    }

    @Override
    public boolean remove(String grantId) {
      try (Connection c = connect();
          PreparedStatement s =
              c.prepareStatement("DELETE FROM break_glass_grants WHERE grant_id = ?")) {
        s.setString(1, grantId);
        return s.executeUpdate() == 1;
      } catch (SQLException e) {
        throw new PredictionStoreException("cannot revoke a break-glass grant", e);
      }
    }
  }

  /** Transactions and predictions the store has committed, and inserts waiting. */
  public WriteStats writeStats() {
    return writer.stats();
  }

  /**
   * What the store has written since it opened.
   *
   * @param transactions insert transactions committed
   * @param predictions predictions stored by them
   * @param waiting inserts queued and not yet taken by the writer
   */
  public record WriteStats(long transactions, long predictions, int waiting) {}

  /** All of {@code rows} in one transaction, or none. */
  private void insertAll(List<PredictionWriter.Row> rows) throws SQLException {
    try (Connection c = connect()) {
      c.setAutoCommit(false);
      try {
        insertPredictions(c, rows);
        insertNotes(c, rows);
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  private static void insertNotes(Connection c, List<PredictionWriter.Row> rows)
      throws SQLException {
    String sql =
        "INSERT INTO prediction_notes (prediction_id, key_id, nonce, ciphertext)"
            + " VALUES (?, ?, ?, ?)";
    try (PreparedStatement s = c.prepareStatement(sql)) {
      int n = 0;
      for (PredictionWriter.Row row : rows) {
        if (row.note().isEmpty()) {
          continue;
        }
        SealedNote note = row.note().get();
        s.setString(1, row.prediction().predictionId());
        s.setString(2, note.keyId());
        s.setString(3, BASE64.encodeToString(note.nonce()));
        s.setString(4, BASE64.encodeToString(note.ciphertext()));
        s.addBatch();
        n++;
      }
      if (n > 0) {
        s.executeBatch();
      }
    }
  }

  private static void insertPredictions(Connection c, List<PredictionWriter.Row> rows)
      throws SQLException {
    String sql =
        "INSERT INTO predictions (prediction_id, order_id, patient_ref, label_id, confidence,"
            + " adapter_version, needs_review, flags, created_at, audit_event_id, review_reasons,"
            + " alternatives, idempotency_key, request_digest)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    try (PreparedStatement s = c.prepareStatement(sql)) {
      for (PredictionWriter.Row row : rows) {
        StoredPrediction p = row.prediction();
        s.setString(1, p.predictionId());
        s.setString(2, p.orderId());
        s.setString(3, p.patientRef());
        s.setString(4, p.labelId());
        s.setDouble(5, p.confidence());
        s.setString(6, p.adapterVersion());
        s.setBoolean(7, p.needsReview());
        s.setString(8, String.join(",", p.flags()));
        s.setTimestamp(9, Timestamp.from(p.createdAt()), utc());
        s.setString(10, p.auditEventId());
        s.setString(11, String.join(",", p.reviewReasons()));
        s.setString(12, alternatives(p.alternatives()));
        s.setString(13, row.idempotency().map(Idempotency::keyDigest).orElse(null));
        s.setString(14, row.idempotency().map(Idempotency::requestDigest).orElse(null));
        s.addBatch();
      }
      s.executeBatch();
    }
  }

  /** The prediction with this id, if any. */
  public Optional<StoredPrediction> find(String predictionId) {
    try (Connection c = connect();
        PreparedStatement s =
            c.prepareStatement("SELECT * FROM predictions WHERE prediction_id = ?")) {
      s.setString(1, predictionId);
      try (ResultSet r = s.executeQuery()) {
        return r.next() ? Optional.of(read(r)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw new PredictionStoreException("cannot read prediction", e);
    }
  }

  /**
   * Records the review of an unreviewed prediction.
   *
   * @return false when the prediction does not exist or is already reviewed
   */
  public boolean review(String predictionId, StoredPrediction.Review review) {
    String sql =
        "UPDATE predictions SET review_accepted = ?, review_label_id = ?, reviewer = ?,"
            + " reviewed_at = ?, review_comment = ? WHERE prediction_id = ? AND reviewer IS NULL";
    try (Connection c = connect();
        PreparedStatement s = c.prepareStatement(sql)) {
      s.setBoolean(1, review.accepted());
      s.setString(2, review.correctedLabelId());
      s.setString(3, review.reviewer());
      s.setTimestamp(4, Timestamp.from(review.reviewedAt()), utc());
      s.setString(5, review.comment());
      s.setString(6, predictionId);
      return s.executeUpdate() == 1;
    } catch (SQLException e) {
      throw new PredictionStoreException("cannot store review", e);
    }
  }

  /**
   * Reviewed predictions with their sealed notes, oldest review first.
   *
   * @param reviewedSince only reviews at or after this instant, when present
   * @param includeAccepted whether accepted predictions are included, besides corrected ones
   */
  public List<ReviewedNote> reviewed(Optional<Instant> reviewedSince, boolean includeAccepted) {
    requireNonNull(reviewedSince, "reviewedSince");
    String sql =
        "SELECT p.*, n.key_id, n.nonce, n.ciphertext FROM predictions p"
            + " LEFT JOIN prediction_notes n ON n.prediction_id = p.prediction_id"
            + " WHERE p.reviewer IS NOT NULL"
            + (includeAccepted ? "" : " AND p.review_accepted = FALSE")
            + (reviewedSince.isPresent() ? " AND p.reviewed_at >= ?" : "")
            + " ORDER BY p.reviewed_at, p.prediction_id";
    List<ReviewedNote> out = new ArrayList<>();
    try (Connection c = connect();
        PreparedStatement s = c.prepareStatement(sql)) {
      if (reviewedSince.isPresent()) {
        s.setTimestamp(1, Timestamp.from(reviewedSince.get()), utc());
      }
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          out.add(new ReviewedNote(read(r), readNote(r)));
        }
      }
      return out;
    } catch (SQLException e) {
      throw new PredictionStoreException("cannot read reviewed predictions", e);
    }
  }

  /**
   * Deletes the retained notes of predictions made before {@code cutoff}; the predictions and their
   * reviews stay, and the feedback export then counts them as having no retained note.
   *
   * @return how many notes were deleted
   */
  public int deleteNotesBefore(Instant cutoff) {
    requireNonNull(cutoff, "cutoff");
    String sql =
        "DELETE FROM prediction_notes WHERE prediction_id IN"
            + " (SELECT prediction_id FROM predictions WHERE created_at < ?)";
    try (Connection c = connect();
        PreparedStatement s = c.prepareStatement(sql)) {
      s.setTimestamp(1, Timestamp.from(cutoff), utc());
      return s.executeUpdate();
    } catch (SQLException e) {
      throw new PredictionStoreException("cannot delete expired notes", e);
    }
  }

  private static Optional<SealedNote> readNote(ResultSet r) throws SQLException {
    String keyId = r.getString("key_id");
    if (keyId == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          new SealedNote(
              keyId,
              BASE64_DECODER.decode(r.getString("nonce")),
              BASE64_DECODER.decode(r.getString("ciphertext"))));
    } catch (IllegalArgumentException e) {
      // A mangled row is reported like any other note that does not authenticate.
      return Optional.of(new SealedNote(keyId, new byte[NoteVault.NONCE_BYTES], new byte[0]));
    }
  }

  /**
   * A reviewed prediction and its note as stored.
   *
   * @param prediction the prediction with its review
   * @param note the sealed note; empty when the note was not retained
   */
  public record ReviewedNote(StoredPrediction prediction, Optional<SealedNote> note) {
    public ReviewedNote {
      requireNonNull(prediction, "prediction");
      requireNonNull(note, "note");
    }
  }

  private static StoredPrediction read(ResultSet r) throws SQLException {
    String flags = r.getString("flags");
    String reasons = r.getString("review_reasons");
    return new StoredPrediction(
        r.getString("prediction_id"),
        r.getString("order_id"),
        r.getString("patient_ref"),
        r.getString("label_id"),
        r.getDouble("confidence"),
        r.getString("adapter_version"),
        r.getBoolean("needs_review"),
        flags.isEmpty() ? List.of() : Arrays.asList(flags.split(",")),
        reasons.isEmpty() ? List.of() : Arrays.asList(reasons.split(",")),
        alternatives(r.getString("alternatives")),
        r.getTimestamp("created_at", utc()).toInstant(),
        r.getString("audit_event_id"),
        readReview(r));
  }

  /** {@code label_id=probability} pairs, comma-separated (catalog ids hold neither character). */
  private static String alternatives(List<StoredPrediction.Alternative> alternatives) {
    StringBuilder out = new StringBuilder();
    for (StoredPrediction.Alternative a : alternatives) {
      out.append(out.isEmpty() ? "" : ",").append(a.labelId()).append('=').append(a.probability());
    }
    return out.toString();
  }

  private static List<StoredPrediction.Alternative> alternatives(String column) {
    List<StoredPrediction.Alternative> out = new ArrayList<>();
    for (String pair : column.isEmpty() ? new String[0] : column.split(",")) {
      int eq = pair.lastIndexOf('=');
      out.add(
          new StoredPrediction.Alternative(
              pair.substring(0, eq), Double.parseDouble(pair.substring(eq + 1))));
    }
    return out;
  }

  private static Optional<StoredPrediction.Review> readReview(ResultSet r) throws SQLException {
    String reviewer = r.getString("reviewer");
    if (reviewer == null) {
      return Optional.empty();
    }
    Instant at = r.getTimestamp("reviewed_at", utc()).toInstant();
    return Optional.of(
        new StoredPrediction.Review(
            r.getBoolean("review_accepted"),
            r.getString("review_label_id"),
            reviewer,
            at,
            r.getString("review_comment")));
  }

  /**
   * Times are kept as UTC wall-clock values in {@code TIMESTAMP} columns, whatever the server's
   * time zone, so that replicas in different zones read the same instants. A new calendar per call:
   * drivers may change the one they are given.
   */
  private static Calendar utc() {
    return Calendar.getInstance(TimeZone.getTimeZone(ZoneOffset.UTC));
  }

  private Connection connect() throws SQLException {
    return pool.getConnection();
  }

  /** The database failed; the message names the operation, never data. */
  public static final class PredictionStoreException extends RuntimeException {
    /** SQLSTATE of a unique constraint violation, on H2 and PostgreSQL alike. */
    private static final String UNIQUE_VIOLATION = "23505";

    PredictionStoreException(String message, SQLException cause) {
      super(message + " (SQL state " + cause.getSQLState() + ")", cause);
    }

    PredictionStoreException(String message) {
      super(message);
    }

    /** Whether the database refused a second prediction under the same retry key. */
    public boolean isDuplicateKey() {
      for (Throwable t = getCause(); t != null; t = t.getCause()) {
        if (t instanceof SQLException sql) {
          for (SQLException e = sql; e != null; e = e.getNextException()) {
            if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
              return true;
            }
          }
        }
      }
      return false;
    }
  }
}
