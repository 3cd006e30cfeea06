package dev.protorad.engine.peft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LabelVocabularyTest {

  @Test
  void covering_holdsEachTokenOnce_ascending_andRoundTripsThroughItsHyperParameter() {
    LabelVocabulary v = LabelVocabulary.covering(List.of(new int[] {9, 4, 2}, new int[] {4, 7, 2}));

    assertThat(v.tokens()).containsExactly(2, 4, 7, 9);
    assertThat(v.indexOf(7)).isEqualTo(2);
    assertThat(v.indexOf(5)).isEqualTo(-1);
    assertThat(v.recorded()).isEqualTo("2 4 7 9");
    assertThat(LabelVocabulary.recordedIn(Map.of(LabelVocabulary.HYPER_PARAMETER, v.recorded())))
        .contains(v);
    assertThat(LabelVocabulary.recordedIn(Map.of("rank", "16"))).isEmpty();
  }

  @Test
  void badRecordedValues_areRefusedNamingTheValue() {
    assertThatThrownBy(
            () -> LabelVocabulary.recordedIn(Map.of(LabelVocabulary.HYPER_PARAMETER, "2 x 9")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"x\"");
    assertThatThrownBy(() -> LabelVocabulary.of(new int[] {3, 3})).hasMessageContaining("repeated");
    assertThatThrownBy(() -> LabelVocabulary.of(new int[0])).hasMessageContaining("empty");
    assertThatThrownBy(() -> LabelVocabulary.of(new int[] {-1})).hasMessageContaining("-1");
  }
}
