package dev.protorad.training.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;

class NearDuplicatesTest {

  @Test
  void shingles_normalizeCaseAndPunctuation() {
    assertThat(NearDuplicates.shingles("R/O PE, SOB!"))
        .containsExactlyInAnyOrder("r/o pe", "pe sob");
    assertThat(NearDuplicates.shingles("PE")).containsExactly("pe");
  }

  @Test
  void jaccard_handComputed() {
    assertThat(NearDuplicates.jaccard(Set.of("a", "b", "c"), Set.of("b", "c", "d"))).isEqualTo(0.5);
    assertThat(NearDuplicates.jaccard(Set.of(), Set.of())).isEqualTo(1.0);
  }

  @Test
  void hasNearDuplicateOutside_onlyAcrossGroups() {
    NearDuplicates index = NearDuplicates.index(0.8);
    index.add("67M r/o PE, SOB, tachy, recent surgery", 0);

    assertThat(index.hasNearDuplicateOutside("67m R/O PE sob tachy recent surgery", 1)).isTrue();
    assertThat(index.hasNearDuplicateOutside("67m R/O PE sob tachy recent surgery", 0)).isFalse();
    assertThat(index.hasNearDuplicateOutside("fall at home, struck head, on apixaban", 1))
        .isFalse();
  }
}
