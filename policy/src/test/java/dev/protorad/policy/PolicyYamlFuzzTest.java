package dev.protorad.policy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * Any bytes as a policy file: the loader either returns a policy or refuses with a {@link
 * PolicyException}; nothing else escapes (no parser exception, no stack overflow, no hang).
 */
class PolicyYamlFuzzTest {

  @FuzzTest(maxDuration = "5s")
  void anyText_isAPolicyOrAPolicyException(byte[] input) {
    try {
      PolicyLoader.parse(new String(input, StandardCharsets.UTF_8), "fuzz.yaml");
    } catch (PolicyException refused) {
      // the expected refusal
    }
  }
}
