package dev.protorad.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class NoteHmacTest {

  private static final String NOTE = "CANARY-91c2 RLQ pain, r/o appendicitis, creatinine 0.9";
  private final String k1 = NoteHmac.generateKey();
  private final String k2 = NoteHmac.generateKey();

  @Test
  void digest_isDeterministicPerKeyAndNeverTheText() {
    NoteHmac hmac = NoteHmac.ofBase64(Map.of("k1", k1), "k1");

    NoteHmac.Digest a = hmac.digest(NOTE);

    assertThat(a).isEqualTo(hmac.digest(NOTE));
    assertThat(a.keyId()).isEqualTo("k1");
    assertThat(a.hmac()).hasSize(64).matches("[0-9a-f]+");
    assertThat(a.toString()).doesNotContain("CANARY");
    assertThat(hmac.digest(NOTE + " ")).isNotEqualTo(a);
  }

  @Test
  void matches_afterRotation_checksOldDigestsWithTheirKey() {
    NoteHmac before = NoteHmac.ofBase64(Map.of("k1", k1), "k1");
    NoteHmac.Digest old = before.digest(NOTE);

    NoteHmac after = NoteHmac.ofBase64(Map.of("k1", k1, "k2", k2), "k2");

    assertThat(after.digest(NOTE).keyId()).isEqualTo("k2");
    assertThat(after.digest(NOTE).hmac()).isNotEqualTo(old.hmac());
    assertThat(after.matches(NOTE, old)).isTrue();
    assertThat(after.matches("another note", old)).isFalse();
    assertThat(NoteHmac.ofBase64(Map.of("k2", k2), "k2").matches(NOTE, old)).isFalse();
  }

  @Test
  void of_shortKeyOrUnknownCurrentId_isRejected() {
    assertThatThrownBy(() -> NoteHmac.of(Map.of("k1", new byte[16]), "k1"))
        .hasMessageContaining("expected: >= 32");
    assertThatThrownBy(() -> NoteHmac.ofBase64(Map.of("k1", k1), "k9"))
        .hasMessageContaining("currentKeyId");
  }

  @Test
  void toString_namesKeyIdsButNoKeys() {
    NoteHmac hmac = NoteHmac.ofBase64(Map.of("k1", k1), "k1");

    assertThat(hmac.toString()).contains("k1").doesNotContain(k1);
  }
}
