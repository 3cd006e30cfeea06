package dev.protorad.audit;

import dev.protorad.testing.Postgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import javax.sql.DataSource;

class PostgresAuditStoreContractTest extends AuditStoreContractTest {

  private DataSource db;

  @Override
  AuditStore open() {
    if (db == null) {
      db = Postgres.newDatabase();
    }
    return PostgresAuditStore.builder(db).writerId("w1").checkpointKeys(KEYS).clock(clock).open();
  }

  @Override
  String storedText() throws Exception {
    StringBuilder all = new StringBuilder();
    try (Connection c = db.getConnection();
        Statement s = c.createStatement()) {
      for (String table : new String[] {"audit_events", "audit_checkpoints"}) {
        try (ResultSet rs = s.executeQuery("SELECT t::text FROM " + table + " t")) {
          while (rs.next()) {
            all.append(rs.getString(1)).append('\n');
          }
        }
      }
    }
    return all.toString();
  }
}
