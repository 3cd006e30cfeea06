package dev.protorad.audit;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The writing side of {@link PostgresAuditStore}: one connection, one transaction per batch holding
 * the batch's events and any checkpoint due. After a failure the connection is dropped and the
 * chain state reloaded from the database on the next batch, so that a commit whose outcome was
 * unknown is neither lost nor repeated.
 */
final class PgWriter implements GroupCommitter.Sink {

  private static final Logger log = LoggerFactory.getLogger(PgWriter.class);

  private static final String INSERT_EVENT =
      "INSERT INTO audit_events (writer_id, sequence, event_time, action, outcome, principal,"
          + " on_behalf_of, order_id, patient_ref, adapter_version, break_glass, record_hash, body)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  private static final String INSERT_CHECKPOINT =
      "INSERT INTO audit_checkpoints (writer_id, sequence, kind, body) VALUES (?, ?, ?, ?)";

  /** Arrival time before which the database's purge floor lets an event go. */
  private static final String STORED_BEFORE =
      "statement_timestamp() - (SELECT min_age FROM audit_purge_policy WHERE id = 1)";

  private final PostgresAuditStore.Settings settings;
  private final DataSource dataSource;
  private @Nullable Connection connection;
  private long lastSequence;
  private String lastHash = Hashes.GENESIS;

  @SuppressWarnings("NullAway.Init") // set by connect(), which every operation runs first
  private Checkpointer checkpointer;

  private final @Nullable Witness witness;
  private volatile @Nullable String problemAtOpen;

  PgWriter(PostgresAuditStore.Settings settings) {
    this.settings = settings;
    this.dataSource = settings.dataSource();
    this.witness = openWitness(settings);
  }

  private static @Nullable Witness openWitness(PostgresAuditStore.Settings settings) {
    try {
      return settings.witness().isPresent() ? Witness.in(settings.witness().get()) : null;
    } catch (IOException e) {
      throw new AuditUnavailableException("audit witness directory unavailable", e);
    }
  }

  @Override
  public List<AuditEvent> write(List<EventDraft> drafts) {
    try {
      connect();
      boolean first = lastSequence == 0;
      List<AuditEvent> events = seal(drafts);
      List<Checkpoint> due = new ArrayList<>(checkpointer.due(events));
      AuditEvent newest = events.get(events.size() - 1);
      if (first && witness != null && due.isEmpty()) {
        // A writer's first events are witnessed at once: until then it would look forged.
        due.addAll(checkpointer.seal(newest.sequence(), newest.recordHash()));
      }
      insertEvents(events);
      insertCheckpoints(due);
      connection().commit();
      advance(newest, due);
      publish(due);
      return events;
    } catch (SQLException e) {
      throw unavailable(e);
    }
  }

  /** Publishes the newest of {@code written} checkpoints as the witnessed head, once committed. */
  private void publish(List<Checkpoint> written) {
    if (witness == null) {
      return;
    }
    try {
      witness.publishNewest(written);
    } catch (IOException e) {
      throw new AuditUnavailableException("audit witness write failed", e);
    }
  }

  /** Seals this writer's events after its last checkpoint with a new one; writer thread. */
  boolean seal() {
    try {
      connect();
      List<Checkpoint> seal = checkpointer.seal(lastSequence, lastHash);
      if (seal.isEmpty()) {
        return false;
      }
      insertCheckpoints(seal);
      connection().commit();
      checkpointer.written(seal);
      publish(seal);
      return true;
    } catch (SQLException e) {
      throw unavailable(e);
    }
  }

  @Override
  public void closing() throws SQLException {
    try {
      if (connection != null) {
        List<Checkpoint> seal = checkpointer.seal(lastSequence, lastHash);
        insertCheckpoints(seal);
        connection().commit();
        publish(seal);
      }
    } finally {
      disconnect();
    }
  }

  /** Anchors and removes this writer's events older than {@code cutoff}; writer thread. */
  long purge(Instant cutoff) {
    try {
      connect();
      AuditEvent newest = newestBefore(cutoff);
      if (newest == null) {
        return 0;
      }
      Checkpoint anchor = checkpointer.anchor(newest.sequence(), newest.recordHash());
      insertCheckpoints(List.of(anchor));
      long removed = callPurge(anchor);
      connection().commit();
      return removed;
    } catch (SQLException e) {
      throw unavailable(e);
    }
  }

  /** The open connection; every caller runs {@link #connect} first. */
  private Connection connection() {
    Connection c = connection;
    if (c == null) {
      throw new IllegalStateException("audit database not connected");
    }
    return c;
  }

  /** Opens the connection and loads the chain state, unless already connected. */
  void connect() throws SQLException {
    if (connection != null) {
      return;
    }
    Connection c = dataSource.getConnection();
    try {
      prepare(c);
      connection = c;
      loadState();
    } catch (SQLException | RuntimeException e) {
      connection = null;
      closeQuietly(c);
      throw e;
    }
  }

  private void prepare(Connection c) throws SQLException {
    c.setAutoCommit(true);
    try (Statement s = c.createStatement()) {
      // Durability must not depend on the server's default.
      s.execute("SET synchronous_commit = on");
    }
    try (PreparedStatement lock =
        c.prepareStatement("SELECT pg_try_advisory_lock(hashtext(current_schema() || ?))")) {
      lock.setString(1, ".protorad.audit:" + settings.writerId());
      try (ResultSet rs = lock.executeQuery()) {
        rs.next();
        if (!rs.getBoolean(1)) {
          throw new IllegalStateException(
              "audit writer '" + settings.writerId() + "' is in use by another process");
        }
      }
    }
    c.setAutoCommit(false);
  }

  private void loadState() throws SQLException {
    lastSequence = 0;
    lastHash = Hashes.GENESIS;
    try (PreparedStatement s =
        connection()
            .prepareStatement(
                "SELECT sequence, record_hash FROM audit_events WHERE writer_id = ?"
                    + " ORDER BY sequence DESC LIMIT 1")) {
      s.setString(1, settings.writerId());
      try (ResultSet rs = s.executeQuery()) {
        if (rs.next()) {
          lastSequence = rs.getLong(1);
          lastHash = rs.getString(2);
        }
      }
    }
    checkAgainstWitness();
    loadCheckpoints();
    connection().commit();
  }

  /**
   * Whether this writer's chain still reaches its witnessed head with the same hash. If not (rows
   * deleted or rewritten by someone who can), the head is kept as a cut record, so that the
   * checkpoints this writer signs from now on, over the chain as it is, cannot replace the
   * evidence; the problem is kept for {@link #problemAtOpen}.
   */
  private void checkAgainstWitness() throws SQLException {
    if (witness == null) {
      return;
    }
    try {
      Optional<Checkpoint> head = witness.head(settings.writerId());
      if (head.isEmpty()) {
        return;
      }
      String writer = settings.writerId();
      Optional<String> found = PostgresAuditStore.headProblem(connection(), writer, head.get());
      if (found.isPresent()) {
        String problem =
            "audit chain of writer "
                + writer
                + " ends at sequence "
                + lastSequence
                + ": "
                + found.get();
        log.error("{}", problem);
        problemAtOpen = problem;
        witness.recordCut(head.get(), problem);
      }
    } catch (IOException e) {
      throw new AuditUnavailableException("audit witness unreadable", e);
    }
  }

  /** What opening (or reconnecting) found wrong with this writer's chain, if anything. */
  Optional<String> problemAtOpen() {
    return Optional.ofNullable(problemAtOpen);
  }

  private void loadCheckpoints() throws SQLException {
    long checkpointed = 0;
    Checkpoint anchor = null;
    for (Checkpoint c : PostgresAuditStore.checkpoints(connection(), settings.writerId())) {
      if (!settings.keys().verify(c)) {
        continue;
      }
      checkpointed = Math.max(checkpointed, c.sequence());
      if (c.kind() == Checkpoint.Kind.ANCHOR
          && (anchor == null || c.sequence() > anchor.sequence())) {
        anchor = c;
      }
    }
    if (anchor != null && anchor.sequence() >= lastSequence) {
      lastSequence = anchor.sequence();
      lastHash = anchor.recordHash();
    }
    checkpointer =
        new Checkpointer(
            settings.keys(),
            settings.writerId(),
            settings.checkpointInterval(),
            settings.clock(),
            checkpointed);
  }

  private List<AuditEvent> seal(List<EventDraft> drafts) {
    return AuditEvent.chain(settings.writerId(), lastSequence, lastHash, settings.clock(), drafts);
  }

  private void insertEvents(List<AuditEvent> events) throws SQLException {
    try (PreparedStatement s = connection().prepareStatement(INSERT_EVENT)) {
      for (AuditEvent e : events) {
        bind(s, e);
        s.addBatch();
      }
      s.executeBatch();
    }
  }

  private static void bind(PreparedStatement s, AuditEvent e) throws SQLException {
    EventDraft d = e.details();
    s.setString(1, e.writerId());
    s.setLong(2, e.sequence());
    s.setObject(3, OffsetDateTime.ofInstant(e.time(), ZoneOffset.UTC));
    s.setString(4, d.action());
    s.setString(5, d.outcome().name());
    s.setString(6, d.principal());
    s.setString(7, d.onBehalfOf());
    s.setString(8, d.orderId());
    s.setString(9, d.patientRef());
    s.setString(10, d.adapterVersion());
    s.setBoolean(11, d.breakGlass());
    s.setString(12, e.recordHash());
    s.setString(13, e.toJson());
  }

  private void insertCheckpoints(List<Checkpoint> checkpoints) throws SQLException {
    if (checkpoints.isEmpty()) {
      return;
    }
    try (PreparedStatement s = connection().prepareStatement(INSERT_CHECKPOINT)) {
      for (Checkpoint c : checkpoints) {
        s.setString(1, c.writerId());
        s.setLong(2, c.sequence());
        s.setString(3, c.kind().name());
        s.setString(4, c.toJson());
        s.addBatch();
      }
      s.executeBatch();
    }
  }

  private void advance(AuditEvent newest, List<Checkpoint> due) {
    lastSequence = newest.sequence();
    lastHash = newest.recordHash();
    checkpointer.written(due);
  }

  /**
   * The newest event such that it and every event before it are older than {@code cutoff}: an event
   * back-dated past the cutoff after younger ones cannot carry them into a purge. Events the
   * database received less than its own minimum age ago are young too: the purge function would
   * refuse them.
   */
  private @Nullable AuditEvent newestBefore(Instant cutoff) throws SQLException {
    try (PreparedStatement s =
        connection()
            .prepareStatement(
                "SELECT body FROM audit_events WHERE writer_id = ? AND event_time < ?"
                    + " AND stored_at <= "
                    + STORED_BEFORE
                    + " AND sequence <"
                    + " COALESCE((SELECT min(sequence) FROM audit_events WHERE writer_id = ?"
                    + " AND (event_time >= ? OR stored_at > "
                    + STORED_BEFORE
                    + ")),"
                    + " 9223372036854775807)"
                    + " ORDER BY sequence DESC LIMIT 1")) {
      OffsetDateTime at = OffsetDateTime.ofInstant(cutoff, ZoneOffset.UTC);
      s.setString(1, settings.writerId());
      s.setObject(2, at);
      s.setString(3, settings.writerId());
      s.setObject(4, at);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? EventCodec.parse(rs.getString(1)) : null;
      }
    }
  }

  private long callPurge(Checkpoint anchor) throws SQLException {
    try (PreparedStatement s =
        connection().prepareStatement("SELECT protorad_audit_purge(?, ?, ?)")) {
      s.setString(1, settings.writerId());
      s.setLong(2, anchor.sequence());
      s.setString(
          3, settings.keys().anchorMac(settings.writerId(), anchor.sequence(), anchor.toJson()));
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private AuditUnavailableException unavailable(SQLException e) {
    log.error(
        "audit database write failed (SQLState {}); reconnecting on the next append",
        e.getSQLState());
    disconnect();
    return new AuditUnavailableException(
        "audit database unavailable (SQLState " + e.getSQLState() + ")", e);
  }

  private void disconnect() {
    if (connection != null) {
      try (Statement s = connection().createStatement()) {
        connection().rollback();
        // The server releases session locks only when the backend exits, after close() returns.
        s.execute("SELECT pg_advisory_unlock_all()");
      } catch (SQLException ignored) {
        // the connection is being dropped anyway
      }
      closeQuietly(connection);
      connection = null;
    }
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException e) {
      log.debug("closing an audit connection failed (SQLState {})", e.getSQLState());
    }
  }
}
