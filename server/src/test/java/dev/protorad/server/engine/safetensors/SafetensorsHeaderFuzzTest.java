package dev.protorad.server.engine.safetensors;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

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

  @FuzzTest(maxDuration = "5s")
  void anyBytes_openOrAreRefusedWithASafetensorsException(byte[] input) throws IOException {
    Files.write(FILE, input);
    try {
      SafetensorsFile.open(FILE);
    } catch (SafetensorsException refused) {
      // the expected refusal
    }
  }
}
