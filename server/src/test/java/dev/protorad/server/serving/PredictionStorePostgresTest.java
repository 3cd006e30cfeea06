package dev.protorad.server.serving;

import dev.protorad.testing.Postgres;
import java.util.Optional;

/** The prediction store's contract on a real PostgreSQL server. */
class PredictionStorePostgresTest extends PredictionStoreContractTest {

  private final String url = Postgres.newSchemaUrl();

  @Override
  PredictionStore open(Optional<NoteVault> vault) {
    return PredictionStore.open(url, "postgres", "", vault);
  }
}
