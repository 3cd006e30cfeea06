package dev.protorad.policy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.code_intelligence.jazzer.mutation.annotation.NotNull;
import dev.protorad.testing.MutableClock;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Any string as a gateway's end-user token: the engine either accepts it (never, for fuzzed input:
 * it is not signed by the gateway's key) or refuses it with an {@link IdentityAssertionException};
 * nothing else escapes.
 */
class GatewayJwtFuzzTest {

  private static final PolicyEngine ENGINE =
      PolicyEngine.create(PolicyHolder.of(Fixture.policy()), new MutableClock(Fixture.NOW));
  private static final Identity PORTAL =
      ENGINE.authenticateApiKey(Fixture.PORTAL_KEY.key()).orElseThrow();

  @DisabledIfSystemProperty(named = "protorad.fuzz", matches = "long")
  @FuzzTest(maxDuration = "5s")
  void anyToken_isRefusedWithAnAssertionError(@NotNull String token) {
    try {
      ENGINE.assertEndUser(PORTAL, token);
      throw new AssertionError("a token nobody signed was accepted");
    } catch (IdentityAssertionException refused) {
      // the expected refusal
    }
  }

  /** The same target, fuzzed for ten minutes in the {@code fuzz-long} profile. */
  @EnabledIfSystemProperty(named = "protorad.fuzz", matches = "long")
  @FuzzTest(maxDuration = "10m")
  void anyToken_isRefusedWithAnAssertionError_forTenMinutes(@NotNull String token) {
    anyToken_isRefusedWithAnAssertionError(token);
  }
}
