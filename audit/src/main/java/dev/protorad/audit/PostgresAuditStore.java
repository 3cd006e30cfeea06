package dev.protorad.audit;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.Period;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The shared audit store for several replicas: PostgreSQL, one hash chain per writer (one writer id
 * per server instance, held exclusively through an advisory lock). The schema comes from Flyway
 * migrations ({@link AuditSchema}), applied at open by default or beforehand by the schema's owner;
 * triggers refuse {@code UPDATE}, {@code DELETE} and {@code TRUNCATE} on both tables, and retention
 * deletes only through {@code protorad_audit_purge()}, after storing a signed anchor. The function
 * itself checks the anchor's MAC under a key only the schema's owner can read and refuses events
 * the database received less than its minimum age ago. Every transaction commits with {@code
 * synchronous_commit = on}.
 *
 * <p>The application role needs {@code INSERT} and {@code SELECT} on both tables, {@code USAGE} on
 * their sequences, {@code SELECT} on the purge policy and {@code EXECUTE} on the purge function,
 * nothing else ({@link AuditSchema#migrate} grants exactly these): the triggers are a second line,
 * not the only one.
 *
 * <p>Queries page by insertion order across writers. A row inserted before, but committed after, a
 * page was read can be missed by the following pages; verification reads one snapshot and is not
 * affected.
 *
 * <pre>{@code
 * AuditStore store = PostgresAuditStore.builder("jdbc:postgresql://db/protorad", "protorad", pw)
 *     .writerId(podName)
 *     .checkpointKeys(keys)
 *     .open();
 * }</pre>
 */
public final class PostgresAuditStore implements AuditStore {

  /** Six years and two leap days: the purge function's floor unless set otherwise. */
  public static final long DEFAULT_PURGE_FLOOR_DAYS = 2192;

  private static final String TOKEN_PREFIX = "p";
  private static final int CONNECT_TIMEOUT_SECONDS = 5;
  private static final int SOCKET_TIMEOUT_SECONDS = 60;

  /** Resolved configuration. */
  record Settings(
      DataSource dataSource,
      String writerId,
      CheckpointKeys keys,
      long checkpointInterval,
      Period retention,
      Clock clock,
      int maxBatch,
      Duration appendTimeout,
      Optional<Path> witness) {}

  private final Settings settings;
  private final PgWriter writer;
  private final GroupCommitter committer;

  private PostgresAuditStore(Settings settings, PgWriter writer) {
    this.settings = settings;
    this.writer = writer;
    this.committer =
        new GroupCommitter(
            "audit-postgres-writer", writer, settings.maxBatch(), settings.appendTimeout());
  }

  /**
   * Starts configuring a store on {@code dataSource}. Give it connect and socket timeouts, so that
   * a database that stops answering fails appends instead of hanging them.
   */
  public static Builder builder(DataSource dataSource) {
    return new Builder(requireNonNull(dataSource, "dataSource"));
  }

  /**
   * Starts configuring a store on a JDBC URL such as {@code jdbc:postgresql://host/db}, with
   * batched multi-row inserts and connect/socket timeouts of 5 s and 60 s.
   */
  public static Builder builder(String jdbcUrl, String user, String password) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(requireNonNull(jdbcUrl, "jdbcUrl"));
    ds.setUser(requireNonNull(user, "user"));
    ds.setPassword(requireNonNull(password, "password"));
    ds.setReWriteBatchedInserts(true); // one multi-row INSERT per group commit
    ds.setConnectTimeout(CONNECT_TIMEOUT_SECONDS);
    // A database that stops answering must fail appends, not hang the writer.
    ds.setSocketTimeout(SOCKET_TIMEOUT_SECONDS);
    return builder(ds);
  }

  @Override
  public AuditEvent append(EventDraft draft) {
    requireNonNull(draft, "draft");
    return committer.submit(draft);
  }

  @Override
  public CompletableFuture<AuditEvent> appendAsync(EventDraft draft) {
    requireNonNull(draft, "draft");
    return committer.submitAsync(draft);
  }

  @Override
  public AuditPage query(AuditQuery query) {
    requireNonNull(query, "query");
    long after = PageTokens.decode(TOKEN_PREFIX, query.pageToken());
    PgQuery sql = PgQuery.of(query, after);
    try (Connection c = settings.dataSource().getConnection();
        PreparedStatement s = sql.prepare(c);
        ResultSet rs = s.executeQuery()) {
      return page(rs, query.pageSize());
    } catch (SQLException e) {
      throw new AuditUnavailableException(
          "audit database unavailable (SQLState " + e.getSQLState() + ")", e);
    }
  }

  @Override
  public Optional<String> problemAtOpen() {
    return writer.problemAtOpen();
  }

  @Override
  public VerifyResult verify() {
    VerifyResult chains =
        verify(settings.dataSource(), settings.keys(), settings.checkpointInterval());
    if (!chains.valid() || settings.witness().isEmpty()) {
      return chains;
    }
    try {
      return againstWitness(
          settings.dataSource(), settings.keys(), Witness.in(settings.witness().get()), chains);
    } catch (IOException e) {
      return new VerifyResult(
          false,
          chains.eventsChecked(),
          chains.checkpointsChecked(),
          "",
          0,
          "witnessed heads unreadable: " + e.getMessage(),
          chains.unsealedEvents());
    }
  }

  /**
   * {@code chains}, or the first writer whose chain does not reach its witnessed head with the same
   * record hash (a chain deleted or cut back), or the first writer in the database with no
   * witnessed head at all (a writer that no server ever ran: forged).
   */
  static VerifyResult againstWitness(
      DataSource dataSource, CheckpointKeys keys, Witness witness, VerifyResult chains)
      throws IOException {
    Map<String, Checkpoint> heads = witness.heads();
    Map<String, Witness.Cut> cuts = witness.cuts();
    if (!cuts.isEmpty()) {
      Map.Entry<String, Witness.Cut> first = cuts.entrySet().iterator().next();
      Witness.Cut cut = first.getValue();
      return bad(chains, first.getKey(), cut.headSequence(), cut.verifyProblem());
    }
    try (Connection c = dataSource.getConnection()) {
      for (Map.Entry<String, Checkpoint> e : heads.entrySet()) {
        Checkpoint h = e.getValue();
        if (!keys.verify(h)) {
          return bad(chains, e.getKey(), h.sequence(), "witnessed head signature does not verify");
        }
        Optional<String> problem = headProblem(c, e.getKey(), h);
        if (problem.isPresent()) {
          return bad(chains, e.getKey(), h.sequence(), problem.get());
        }
      }
      for (String writer : writers(c)) {
        if (!heads.containsKey(writer)) {
          return bad(
              chains, writer, 0, "writer never witnessed: events under an unknown writer id");
        }
      }
    } catch (SQLException e) {
      throw new AuditUnavailableException(
          "audit database unavailable (SQLState " + e.getSQLState() + ")", e);
    }
    return chains;
  }

  private static VerifyResult bad(VerifyResult chains, String writer, long sequence, String why) {
    return new VerifyResult(
        false,
        chains.eventsChecked(),
        chains.checkpointsChecked(),
        writer,
        sequence,
        why,
        chains.unsealedEvents());
  }

  /**
   * Why {@code writer}'s chain in the database does not reach its witnessed {@code head} with the
   * same record hash (deleted, cut back or rewritten), or empty when it does or retention purged
   * past it.
   */
  static Optional<String> headProblem(Connection c, String writer, Checkpoint head)
      throws SQLException {
    String hash = recordHashAt(c, writer, head.sequence());
    if (hash == null && !purgedThrough(c, writer, head.sequence())) {
      return Optional.of(
          "chain deleted or cut back: it does not reach its witnessed head at sequence "
              + head.sequence());
    }
    if (hash != null && !hash.equals(head.recordHash())) {
      return Optional.of("chain rewritten: hash differs from its witness");
    }
    return Optional.empty();
  }

  private static @Nullable String recordHashAt(Connection c, String writer, long sequence)
      throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT record_hash FROM audit_events WHERE writer_id = ? AND sequence = ?")) {
      s.setString(1, writer);
      s.setLong(2, sequence);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  /** Whether a purge anchor covers {@code sequence} (the event is gone by retention). */
  private static boolean purgedThrough(Connection c, String writer, long sequence)
      throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT 1 FROM audit_checkpoints WHERE writer_id = ? AND kind = 'ANCHOR'"
                + " AND sequence >= ?")) {
      s.setString(1, writer);
      s.setLong(2, sequence);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** Removes this writer's expired events; other writers purge their own chains. */
  @Override
  public long purgeExpired() {
    AuditVerifier.requireValid(verify());
    Instant cutoff =
        settings.clock().instant().atZone(ZoneOffset.UTC).minus(settings.retention()).toInstant();
    return committer.call(() -> writer.purge(cutoff));
  }

  @Override
  public boolean seal() {
    return committer.call(writer::seal);
  }

  @Override
  public void close() {
    committer.close();
  }

  /** Verifies every writer's chain in one consistent snapshot, without writing anything. */
  static VerifyResult verify(DataSource dataSource, CheckpointKeys keys, long interval) {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      c.setReadOnly(true);
      VerifyResult result = VerifyResult.ok(0, 0, 0);
      for (String writerId : writers(c)) {
        result = result.plus(verifyWriter(c, writerId, keys, interval));
      }
      c.commit();
      return result;
    } catch (SQLException e) {
      throw new AuditUnavailableException(
          "audit database unavailable (SQLState " + e.getSQLState() + ")", e);
    }
  }

  static List<Checkpoint> checkpoints(Connection c, String writerId) throws SQLException {
    List<Checkpoint> out = new ArrayList<>();
    for (String body : checkpointBodies(c, writerId)) {
      parseIntact(body).ifPresent(out::add);
    }
    return out;
  }

  private static Optional<Checkpoint> parseIntact(String body) {
    try {
      return Optional.of(Checkpoint.parse(body));
    } catch (IllegalArgumentException e) {
      // verify() reports damaged checkpoints; the writer ignores them
      return Optional.empty();
    }
  }

  private static List<String> checkpointBodies(Connection c, String writerId) throws SQLException {
    List<String> bodies = new ArrayList<>();
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT body FROM audit_checkpoints WHERE writer_id = ? ORDER BY sequence, id")) {
      s.setString(1, writerId);
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          bodies.add(rs.getString(1));
        }
      }
    }
    return bodies;
  }

  private static AuditPage page(ResultSet rs, int pageSize) throws SQLException {
    List<AuditEvent> events = new ArrayList<>();
    long lastId = 0;
    boolean more = false;
    while (rs.next()) {
      if (events.size() == pageSize) {
        more = true;
        break;
      }
      lastId = rs.getLong(1);
      parseInto(rs.getString(2), events);
    }
    return new AuditPage(events, more ? PageTokens.encode(TOKEN_PREFIX, lastId) : "");
  }

  private static void parseInto(String body, List<AuditEvent> events) {
    try {
      events.add(EventCodec.parse(body));
    } catch (IllegalArgumentException e) {
      // verify() reports it; a query shows what can be read
    }
  }

  private static List<String> writers(Connection c) throws SQLException {
    List<String> writers = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT writer_id FROM audit_events UNION SELECT writer_id FROM audit_checkpoints"
                    + " ORDER BY 1")) {
      while (rs.next()) {
        writers.add(rs.getString(1));
      }
    }
    return writers;
  }

  private static VerifyResult verifyWriter(
      Connection c, String writerId, CheckpointKeys keys, long interval) throws SQLException {
    List<String> bodies = checkpointBodies(c, writerId);
    List<Checkpoint> checkpoints = new ArrayList<>();
    List<Long> damaged = new ArrayList<>();
    for (String body : bodies) {
      try {
        checkpoints.add(Checkpoint.parse(body));
      } catch (IllegalArgumentException e) {
        damaged.add(checkpoints.isEmpty() ? 0 : checkpoints.get(checkpoints.size() - 1).sequence());
      }
    }
    ChainCheck check = new ChainCheck(writerId, checkpoints, keys, interval);
    damaged.forEach(check::checkpointDamaged);
    streamEvents(c, writerId, check);
    return check.finish();
  }

  private static void streamEvents(Connection c, String writerId, ChainCheck check)
      throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT sequence, event_time, principal, on_behalf_of, order_id, patient_ref,"
                + " action, outcome, adapter_version, break_glass, record_hash, body"
                + " FROM audit_events WHERE writer_id = ? ORDER BY sequence")) {
      s.setFetchSize(1000);
      s.setString(1, writerId);
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next() && !check.stopped()) {
          AuditEvent e = check.record(rs.getString(12));
          if (e != null && !columnsMatch(rs, e)) {
            check.mismatch(e.sequence(), "indexed columns differ from the hashed record");
          }
        }
      }
    }
  }

  /** The query columns must say what the hashed body says, or filters could be misled. */
  private static boolean columnsMatch(ResultSet rs, AuditEvent e) throws SQLException {
    EventDraft d = e.details();
    return rs.getLong(1) == e.sequence()
        && rs.getObject(2, OffsetDateTime.class).toInstant().equals(e.time())
        && d.principal().equals(rs.getString(3))
        && d.onBehalfOf().equals(rs.getString(4))
        && d.orderId().equals(rs.getString(5))
        && d.patientRef().equals(rs.getString(6))
        && d.action().equals(rs.getString(7))
        && d.outcome().name().equals(rs.getString(8))
        && d.adapterVersion().equals(rs.getString(9))
        && d.breakGlass() == rs.getBoolean(10)
        && Objects.equals(e.recordHash(), rs.getString(11));
  }

  /** Builds the filtered, keyset-paged SELECT of a query. */
  private record PgQuery(String sql, List<Object> args) {

    static PgQuery of(AuditQuery q, long afterId) {
      StringBuilder sql = new StringBuilder("SELECT id, body FROM audit_events WHERE id > ?");
      List<Object> args = new ArrayList<>(List.of(afterId));
      if (q.from() != null) {
        sql.append(" AND event_time >= ?");
        args.add(OffsetDateTime.ofInstant(q.from(), ZoneOffset.UTC));
      }
      if (q.to() != null) {
        sql.append(" AND event_time < ?");
        args.add(OffsetDateTime.ofInstant(q.to(), ZoneOffset.UTC));
      }
      if (!q.eventId().isEmpty()) {
        sql.append(" AND writer_id = ? AND sequence = ?");
        args.add(q.eventWriter());
        args.add(q.eventSequence());
      }
      if (!q.principal().isEmpty()) {
        sql.append(" AND (principal = ? OR on_behalf_of = ?)");
        args.add(q.principal());
        args.add(q.principal());
      }
      if (q.isMethodName()) {
        sql.append(" AND (action = ? OR right(action, ?) = ?)");
        args.add(q.action());
        args.add(q.action().length() + 1);
        args.add("/" + q.action());
      } else {
        text(sql, args, "action", q.action());
      }
      text(sql, args, "order_id", q.orderId());
      text(sql, args, "patient_ref", q.patientRef());
      if (q.outcome() != null) {
        text(sql, args, "outcome", q.outcome().name());
      }
      adapter(sql, args, q.adapter());
      if (q.breakGlassOnly()) {
        sql.append(" AND break_glass");
      }
      sql.append(" ORDER BY id LIMIT ").append(q.pageSize() + 1);
      return new PgQuery(sql.toString(), args);
    }

    private static void text(StringBuilder sql, List<Object> args, String column, String value) {
      if (!value.isEmpty()) {
        sql.append(" AND ").append(column).append(" = ?");
        args.add(value);
      }
    }

    private static void adapter(StringBuilder sql, List<Object> args, String adapter) {
      if (adapter.isEmpty()) {
        return;
      }
      if (adapter.contains("@")) {
        text(sql, args, "adapter_version", adapter);
      } else {
        sql.append(" AND starts_with(adapter_version, ?)");
        args.add(adapter + "@");
      }
    }

    PreparedStatement prepare(Connection c) throws SQLException {
      PreparedStatement s = c.prepareStatement(sql);
      for (int i = 0; i < args.size(); i++) {
        s.setObject(i + 1, args.get(i));
      }
      return s;
    }
  }

  /** Configures a {@link PostgresAuditStore}; each setter validates its argument. */
  public static final class Builder extends AuditStoreBuilder<Builder> {
    private final DataSource dataSource;
    private boolean manageSchema = true;
    private Duration purgeFloor = Duration.ofDays(DEFAULT_PURGE_FLOOR_DAYS);

    private Builder(DataSource dataSource) {
      this.dataSource = dataSource;
    }

    @Override
    Builder self() {
      return this;
    }

    /**
     * Whether {@link #open} applies the schema's migrations itself, as the role it logs in as (the
     * default, for a role that owns the schema). With false the schema must have been migrated by
     * its owner ({@link AuditSchema#migrate}), and the store needs only INSERT and SELECT.
     */
    public Builder manageSchema(boolean manage) {
      this.manageSchema = manage;
      return this;
    }

    /**
     * The youngest an event may be, by the database's own clock, when the purge function removes it
     * (default six years). Written into the schema only when the store manages it; otherwise the
     * schema's owner sets it ({@code protorad audit migrate --min-retention-days}).
     */
    public Builder purgeFloor(Duration floor) {
      requireNonNull(floor, "floor");
      if (floor.isNegative()) {
        throw new IllegalArgumentException("purgeFloor: " + floor + " (expected: >= 0)");
      }
      this.purgeFloor = floor;
      return this;
    }

    /**
     * Migrates the schema (unless told not to), takes this writer's lock and opens the store.
     *
     * @throws AuditUnavailableException if the database cannot be reached
     */
    public PostgresAuditStore open() {
      CheckpointKeys keys = requireKeys();
      if (manageSchema) {
        AuditSchema.migrate(
            dataSource,
            Optional.empty(),
            new AuditSchema.PurgePolicy(Optional.of(purgeFloor), List.of(keys)));
      } else if (!AuditSchema.isMigrated(dataSource)) {
        throw new AuditUnavailableException(
            "audit schema missing: run `protorad audit migrate` as the schema's owner first");
      }
      Settings settings =
          new Settings(
              dataSource,
              writerId,
              keys,
              checkpointInterval,
              retention,
              clock,
              maxBatch,
              appendTimeout,
              witness());
      PgWriter writer = new PgWriter(settings);
      try {
        writer.connect();
      } catch (SQLException e) {
        throw new AuditUnavailableException(
            "audit database unavailable (SQLState " + e.getSQLState() + ")", e);
      }
      return new PostgresAuditStore(settings, writer);
    }
  }
}
