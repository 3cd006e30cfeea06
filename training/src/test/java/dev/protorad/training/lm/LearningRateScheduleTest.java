package dev.protorad.training.lm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import org.junit.jupiter.api.Test;

class LearningRateScheduleTest {

  @Test
  void at_warmsUpLinearlyThenDecaysByCosineToTheFloor() {
    LearningRateSchedule s = new LearningRateSchedule(1e-3, 10, 110, 0.1);

    assertThat(s.at(0)).isCloseTo(1e-4, offset(1e-12));
    assertThat(s.at(9)).isCloseTo(1e-3, offset(1e-12));
    assertThat(s.at(60)).isCloseTo(1e-3 * (0.1 + 0.9 * 0.5), offset(1e-12));
    assertThat(s.at(110)).isCloseTo(1e-4, offset(1e-12));
    for (int i = 10; i < 110; i++) {
      assertThat(s.at(i + 1)).isLessThanOrEqualTo(s.at(i));
    }
  }

  @Test
  void new_rejectsWarmupLongerThanRun_namingTheField() {
    assertThatThrownBy(() -> new LearningRateSchedule(1e-3, 20, 10, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("warmupSteps: 20 (expected: 0..10)");
  }
}
