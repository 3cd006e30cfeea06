package dev.protorad.policy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Any bytes as a policy file: the loader either returns a policy or refuses with a {@link
 * PolicyException}; nothing else escapes (no parser exception, no stack overflow, no hang).
 */
class PolicyYamlFuzzTest {

  @DisabledIfSystemProperty(named = "protorad.fuzz", matches = "long")
  @FuzzTest(maxDuration = "5s")
  void anyText_isAPolicyOrAPolicyException(byte[] input) {
    try {
      PolicyLoader.parse(new String(input, StandardCharsets.UTF_8), "fuzz.yaml");
    } catch (PolicyException refused) {
      // the expected refusal
    }
  }

  /** The same target, fuzzed for ten minutes in the {@code fuzz-long} profile. */
  @EnabledIfSystemProperty(named = "protorad.fuzz", matches = "long")
  @FuzzTest(maxDuration = "10m")
  void anyText_isAPolicyOrAPolicyException_forTenMinutes(byte[] input) {
    anyText_isAPolicyOrAPolicyException(input);
  }
}
