package dev.protorad.server.serving;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class IdempotencyTest {

  @Test
  void theKeyIsScopedToItsPrincipal_andIsNotStoredAsSent() {
    Idempotency a = Idempotency.of("svc-a", "job-7:O-1", "O-1");
    Idempotency b = Idempotency.of("svc-b", "job-7:O-1", "O-1");

    assertThat(a.keyDigest()).isNotEqualTo(b.keyDigest()).hasSize(64).doesNotContain("job-7");
    assertThat(a.requestDigest()).isEqualTo(b.requestDigest());
  }

  @Test
  void requestParts_areLengthPrefixed_soTheirBoundariesCount() {
    assertThat(Idempotency.of("p", "k", "ab", "c").requestDigest())
        .isNotEqualTo(Idempotency.of("p", "k", "a", "bc").requestDigest());
    assertThat(Idempotency.of("p1", "k").keyDigest())
        .isNotEqualTo(Idempotency.of("p", "1k").keyDigest());
  }
}
