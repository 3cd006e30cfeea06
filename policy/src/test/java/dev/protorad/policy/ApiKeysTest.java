package dev.protorad.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.SecureRandom;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class ApiKeysTest {

  @Test
  void generate_keyHasPrefixAnd256RandomBits_andItsHash() {
    ApiKeys.ApiKey key = ApiKeys.generate(new SecureRandom());

    assertThat(key.key()).startsWith("prk_").hasSize(4 + 43);
    assertThat(key.hash()).isEqualTo(ApiKeys.hash(key.key()));
    assertThat(ApiKeys.isWellFormedHash(key.hash())).isTrue();
  }

  @Test
  void generate_twice_givesDifferentKeys() {
    SecureRandom random = new SecureRandom();

    assertThat(ApiKeys.generate(random).key()).isNotEqualTo(ApiKeys.generate(random).key());
  }

  @Test
  void hash_knownValue_isSha256Hex() {
    assertThat(ApiKeys.hash("abc"))
        .isEqualTo("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }

  @Test
  void toString_neverShowsTheKey() {
    ApiKeys.ApiKey key = ApiKeys.generate(new SecureRandom());

    assertThat(key.toString()).doesNotContain(key.key()).contains(key.hash());
  }

  @Test
  void isWellFormedHash_rawKeyOrUpperCase_isFalse() {
    assertThat(ApiKeys.isWellFormedHash("prk_abc")).isFalse();
    assertThat(ApiKeys.isWellFormedHash(ApiKeys.hash("abc").toUpperCase(Locale.ROOT))).isFalse();
  }
}
