package dev.protorad.engine.safetensors;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Any bytes as a {@code .safetensors} file: opening it either succeeds or is refused with a {@link
 * SafetensorsException}; no other exception, no huge allocation from a lying header.
 */
class SafetensorsHeaderFuzzTest {

  private static final Path FILE = tempFile();

  private static Path tempFile() {
    try {
      Path f = Files.createTempFile("protorad-fuzz", ".safetensors");
      f.toFile().deleteOnExit();
      return f;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @DisabledIfSystemProperty(named = "protorad.fuzz", matches = "long")
  @FuzzTest(maxDuration = "5s")
  void anyBytes_openOrAreRefusedWithASafetensorsException(byte[] input) throws IOException {
    Files.write(FILE, input);
    try {
      SafetensorsFile.open(FILE);
    } catch (SafetensorsException refused) {
      // the expected refusal
    }
  }

  /** The same target, fuzzed for ten minutes in the {@code fuzz-long} profile. */
  @EnabledIfSystemProperty(named = "protorad.fuzz", matches = "long")
  @FuzzTest(maxDuration = "10m")
  void anyBytes_openOrAreRefusedWithASafetensorsException_forTenMinutes(byte[] input)
      throws IOException {
    anyBytes_openOrAreRefusedWithASafetensorsException(input);
  }
}
