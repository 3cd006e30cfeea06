package dev.protorad.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PromptTemplateTest {

  @Test
  void isShouted_countsCasedLettersOnly() {
    assertThat(PromptTemplate.isShouted("RUQ PAIN, ?CHOLECYSTITIS. CR 1.1")).isTrue();
    // 80% of the cased letters upper case is enough: units and a stray "eGFR" stay shouted.
    assertThat(PromptTemplate.isShouted("LOW BACK PAIN AFTER FALL, EGFR 45 mL/min")).isTrue();
    assertThat(PromptTemplate.isShouted("65F with RUQ pain, r/o cholecystitis")).isFalse();
    assertThat(PromptTemplate.isShouted("CT A/P")).isTrue();
    assertThat(PromptTemplate.isShouted("ct a/p")).isFalse();
    assertThat(PromptTemplate.isShouted("65 / 120 / 3.1")).isFalse();
    assertThat(PromptTemplate.isShouted("")).isFalse();
  }

  @Test
  void v2_foldsAShoutedNoteOnly_v1_keepsEveryNoteAsWritten() {
    String shouted = "PREGNANT, RUQ PAIN. EGFR >60";
    String mixed = "Pregnant, RUQ pain. eGFR >60";

    assertThat(PromptTemplate.V2.render(shouted))
        .isEqualTo("### Note:\npregnant, ruq pain. egfr >60\n### Protocol:\n");
    assertThat(PromptTemplate.V2.render(mixed)).isEqualTo(PromptTemplate.V1.render(mixed));
    assertThat(PromptTemplate.V1.render(shouted)).contains(shouted);
    assertThat(PromptTemplate.V2.example(shouted, "US Abdomen RUQ"))
        .endsWith("### Protocol:\nUS Abdomen RUQ</s>");
    assertThat(PromptTemplate.V2.sharesLabelsWith(PromptTemplate.V1)).isTrue();
  }

  @Test
  void forVersion_findsKnownTemplates_andRefusesOthersNamingThem() {
    assertThat(PromptTemplate.forVersion("v1")).isEqualTo(PromptTemplate.V1);
    assertThat(PromptTemplate.forVersion("v2")).isEqualTo(PromptTemplate.V2);
    assertThat(PromptTemplate.DEFAULT).isEqualTo(PromptTemplate.V2);

    assertThatThrownBy(() -> PromptTemplate.forVersion("v3"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("prompt template: v3 (expected: one of [v1, v2])");
    assertThatThrownBy(() -> PromptTemplate.forVersion(""))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void select_explicitChoiceWins_thenBareBaseV1_thenRecorded_thenDefault() {
    assertThat(PromptTemplate.select("v1", "v2", false)).isEqualTo(PromptTemplate.V1);
    assertThat(PromptTemplate.select("v2", null, true)).isEqualTo(PromptTemplate.V2);
    assertThat(PromptTemplate.select(null, "v2", true)).isEqualTo(PromptTemplate.V1);
    assertThat(PromptTemplate.select(null, "v1", false)).isEqualTo(PromptTemplate.V1);
    assertThat(PromptTemplate.select(null, null, false)).isEqualTo(PromptTemplate.DEFAULT);
    assertThat(PromptTemplate.forNewAdapter()).isEqualTo(PromptTemplate.DEFAULT);
    assertThat(PromptTemplate.forBareBase()).isEqualTo(PromptTemplate.V1);
    assertThatThrownBy(() -> PromptTemplate.select(null, "v9", false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("v9");
  }
}
