package dev.protorad.server.governance;

import static java.util.Objects.requireNonNull;

import dev.protorad.audit.AuditStore;
import dev.protorad.audit.CheckpointKeys;
import dev.protorad.audit.EventDraft;
import dev.protorad.audit.FileAuditStore;
import dev.protorad.audit.NoteHmac;
import dev.protorad.audit.Outcome;
import dev.protorad.audit.PostgresAuditStore;
import dev.protorad.policy.PolicyEngine;
import dev.protorad.policy.PolicyException;
import dev.protorad.policy.PolicyHolder;
import dev.protorad.server.config.AuditConfig;
import dev.protorad.server.config.ConfigException;
import dev.protorad.server.config.ServerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Locale;

/**
 * The governance components of one process, opened from its configuration: the access policy
 * (reloading on change), the audit store, and the note HMAC keys. Keys that do not exist yet are
 * generated with owner-only permissions, so a first start needs nothing but a policy file.
 */
public final class Governance implements AutoCloseable {

  private final PolicyHolder policyHolder;
  private final PolicyEngine policy;
  private final AuditStore audit;
  private final NoteHmac noteHmac;

  private Governance(
      PolicyHolder policyHolder, PolicyEngine policy, AuditStore audit, NoteHmac noteHmac) {
    this.policyHolder = policyHolder;
    this.policy = policy;
    this.audit = audit;
    this.noteHmac = noteHmac;
  }

  /**
   * Opens everything {@code config} names.
   *
   * @throws ConfigException when the policy file is missing or invalid, or a store cannot open
   */
  public static Governance open(ServerConfig config, Clock clock) {
    requireNonNull(config, "config");
    requireNonNull(clock, "clock");
    PolicyHolder holder = loadPolicy(config);
    try {
      NoteHmac hmac =
          HmacKeyFile.loadOrCreate(config.audit().resolvedHmacKeyFile(config.dataDir()));
      AuditStore store = openAudit(config, clock);
      recordProblemAtOpen(store);
      holder.start();
      return new Governance(holder, PolicyEngine.create(holder, clock), store, hmac);
    } catch (IOException e) {
      holder.close();
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      holder.close();
      throw e;
    }
  }

  /**
   * Action of the event recording that the audit store, on opening, found its log or chain cut
   * back, rolled back or rewritten before its witnessed head (or a tail that does not verify).
   */
  public static final String CHAIN_CUT = "protorad.v1.AuditStore/ChainCut";

  /** The store's finding at open, as an audit event (the details are in the log and witness). */
  private static void recordProblemAtOpen(AuditStore store) {
    if (store.problemAtOpen().isPresent()) {
      store.append(chainCut());
    }
  }

  private static EventDraft chainCut() {
    return EventDraft.builder(CHAIN_CUT, Outcome.FAILED, "DATA_LOSS")
        .principal(AuditSealing.SERVER_PRINCIPAL)
        .build();
  }

  public PolicyHolder policyHolder() {
    return policyHolder;
  }

  public PolicyEngine policy() {
    return policy;
  }

  public AuditStore audit() {
    return audit;
  }

  public NoteHmac noteHmac() {
    return noteHmac;
  }

  @Override
  public void close() {
    policyHolder.close();
    audit.close();
  }

  private static PolicyHolder loadPolicy(ServerConfig config) {
    Path file = config.resolvedPolicyFile();
    if (!Files.isRegularFile(file)) {
      throw new ConfigException(
          "policy.file", file + " does not exist (expected: a policy YAML, see policy/README.md)");
    }
    try {
      return PolicyHolder.load(file, config.policyReload());
    } catch (PolicyException e) {
      throw new ConfigException("policy.file", firstError(e));
    }
  }

  private static String firstError(PolicyException e) {
    return e.errors().isEmpty() ? String.valueOf(e.getMessage()) : e.errors().get(0).toString();
  }

  private static AuditStore openAudit(ServerConfig config, Clock clock) throws IOException {
    AuditConfig audit = config.audit();
    CheckpointKeys keys = checkpointKeys(audit.resolvedCheckpointKeyFile(config.dataDir()));
    String writerId = audit.writerId().orElseGet(Governance::defaultWriterId);
    if (audit.store().equals(AuditConfig.POSTGRES)) {
      String password = System.getenv().getOrDefault(audit.jdbcPasswordEnv(), "");
      PostgresAuditStore.Builder builder =
          PostgresAuditStore.builder(audit.jdbcUrl(), audit.jdbcUser(), password)
              .writerId(writerId)
              .checkpointKeys(keys)
              .retention(audit.retention())
              .purgeFloor(purgeFloor(audit.retention()))
              .clock(clock)
              .manageSchema(audit.manageSchema());
      // Replicas share the witness only when it is named: a per-replica default would call every
      // other replica's chain unwitnessed.
      audit.witnessDirectory().ifPresent(builder::witness);
      return builder.open();
    }
    return FileAuditStore.builder(audit.resolvedDirectory(config.dataDir()))
        .writerId(writerId)
        .checkpointKeys(keys)
        .retention(audit.retention())
        .clock(clock)
        .witness(audit.resolvedWitnessDirectory(config.dataDir()))
        .open();
  }

  /**
   * The database's own floor under the purge: the retention, counted in the shortest days its
   * months and years can have, so that the database never lets go of an event the server keeps.
   */
  static java.time.Duration purgeFloor(java.time.Period retention) {
    // months counted as 28 days; the period's days part added on top (a normalized period)
    @SuppressWarnings("JavaPeriodGetDays")
    long days = retention.toTotalMonths() * 28 + retention.getDays();
    return java.time.Duration.ofDays(Math.max(0, days));
  }

  private static CheckpointKeys checkpointKeys(Path keyFile) throws IOException {
    if (Files.exists(keyFile)) {
      return CheckpointKeys.load(keyFile);
    }
    Files.createDirectories(keyFile.toAbsolutePath().getParent());
    return CheckpointKeys.generate(keyFile);
  }

  private static String defaultWriterId() {
    try {
      String host = InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT);
      String cleaned = host.replaceAll("[^a-z0-9._-]", "-");
      return cleaned.isEmpty() ? "server" : cleaned.substring(0, Math.min(64, cleaned.length()));
    } catch (IOException e) {
      return "server";
    }
  }
}
