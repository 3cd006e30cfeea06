package dev.protorad.server.governance;

import dev.protorad.audit.AuditStore;
import dev.protorad.audit.CheckpointKeys;
import dev.protorad.audit.PostgresAuditStore;
import dev.protorad.testing.Postgres;
import java.time.Clock;

/** Audit retention over the PostgreSQL store, whose purge removes rows one by one. */
class PostgresAuditRetentionTest extends AuditRetentionContractTest {

  @Override
  AuditStore open(Clock clock) {
    return PostgresAuditStore.builder(Postgres.newSchemaUrl(), "postgres", "")
        .writerId("w1")
        .checkpointKeys(CheckpointKeys.generateInMemory())
        .checkpointInterval(10)
        .retention(RETENTION)
        .clock(clock)
        // The database's purge floor reads the database's clock, which this test cannot move.
        .purgeFloor(java.time.Duration.ZERO)
        .open();
  }

  @Override
  long firstKept(long firstYoung) {
    return firstYoung;
  }
}
