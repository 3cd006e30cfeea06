package dev.protorad.audit;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Any bytes as an audit segment: verification reads them as frames and answers with a result, valid
 * or naming what is wrong; it never throws.
 */
class SegmentReaderFuzzTest {

  private static final CheckpointKeys KEYS = CheckpointKeys.generateInMemory();
  private static final Path DIR = tempDir();

  private static Path tempDir() {
    try {
      Path d = Files.createTempDirectory("protorad-fuzz-audit");
      d.toFile().deleteOnExit();
      return d;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @DisabledIfSystemProperty(named = "protorad.fuzz", matches = "long")
  @FuzzTest(maxDuration = "5s")
  void anyBytes_giveAVerificationResult(byte[] input) throws IOException {
    Files.write(Segments.segmentPath(DIR, 1), input);
    VerifyResult result = AuditVerifier.verifyDirectory(DIR, KEYS.publicOnly(), 1000);
    if (result == null) {
      throw new AssertionError("no verification result");
    }
  }

  /** The same target, fuzzed for ten minutes in the {@code fuzz-long} profile. */
  @EnabledIfSystemProperty(named = "protorad.fuzz", matches = "long")
  @FuzzTest(maxDuration = "10m")
  void anyBytes_giveAVerificationResult_forTenMinutes(byte[] input) throws IOException {
    anyBytes_giveAVerificationResult(input);
  }
}
