package dev.protorad.engine.peft;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Any bytes as a PEFT {@code adapter_config.json}: reading it either gives a configuration or is
 * refused with an {@link java.io.IOException} naming the file (an {@link AdapterException} for
 * content it does not support); no other exception escapes.
 */
class AdapterConfigFuzzTest {

  private static final Path DIR = tempDir();

  private static Path tempDir() {
    try {
      Path d = Files.createTempDirectory("protorad-fuzz-peft");
      d.toFile().deleteOnExit();
      return d;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @DisabledIfSystemProperty(named = "protorad.fuzz", matches = "long")
  @FuzzTest(maxDuration = "5s")
  void anyBytes_areAConfigOrAnIoRefusal(byte[] input) throws IOException {
    Files.write(DIR.resolve(LoraAdapter.CONFIG_FILE), input);
    try {
      LoraAdapter.readConfig(DIR);
    } catch (IOException refused) {
      // the expected refusal
    }
  }

  /** The same target, fuzzed for ten minutes in the {@code fuzz-long} profile. */
  @EnabledIfSystemProperty(named = "protorad.fuzz", matches = "long")
  @FuzzTest(maxDuration = "10m")
  void anyBytes_areAConfigOrAnIoRefusal_forTenMinutes(byte[] input) throws IOException {
    anyBytes_areAConfigOrAnIoRefusal(input);
  }
}
