package dev.protorad.server.serving;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.io.TempDir;

/** The prediction store's contract on the embedded H2 file database the server uses by default. */
class PredictionStoreH2Test extends PredictionStoreContractTest {

  @TempDir Path dir;

  @Override
  PredictionStore open(Optional<NoteVault> vault) {
    return PredictionStore.open(
        "jdbc:h2:file:" + dir.toAbsolutePath().resolve("predictions"), "", "", vault);
  }
}
