package dev.protorad.training;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.engine.model.LlamaTokenizer;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.testing.TinyBase;
import dev.protorad.training.data.Example;
import dev.protorad.training.data.GeneratedNote;
import dev.protorad.training.data.SyntheticNotes;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class FineTunerEncodeTest {

  private static final Catalog CATALOG = Catalog.loadDefault();
  private static LlamaTokenizer tokenizer;
  private static FineTuner tuner;

  @BeforeAll
  static void setUp() throws Exception {
    tokenizer = LlamaTokenizer.load(TinyBase.TOKENIZER);
    tuner = FineTuner.create(TinyBase.create(1), tokenizer, CATALOG, PromptTemplate.DEFAULT, null);
  }

  @AfterAll
  static void tearDown() {
    tokenizer.close();
  }

  @Test
  void encode_longPrompt_keepsItsFirstTokenAndItsTail() {
    String note = "fall with head strike, on apixaban, ".repeat(40);
    int[] whole = tokenizer.encode(PromptTemplate.DEFAULT.render(note));

    int[] cut = tuner.encode(List.of(new Example(note, "ct-head-wo")), 32).get(0).prompt();

    assertThat(whole.length).isGreaterThan(32);
    assertThat(cut).hasSize(32);
    assertThat(cut[0]).isEqualTo(whole[0]);
    assertThat(Arrays.copyOfRange(cut, 1, 32))
        .isEqualTo(Arrays.copyOfRange(whole, whole.length - 31, whole.length));
  }

  @Test
  void encode_defaultLimit_keepsEverySyntheticNoteWhole() {
    List<Example> examples =
        SyntheticNotes.builder(CATALOG).seed(7).build().generate(3000).notes().stream()
            .map(GeneratedNote::example)
            .toList();

    List<FineTuner.Encoded> encoded =
        tuner.encode(examples, HyperParameters.DEFAULTS.maxPromptTokens());

    for (int i = 0; i < examples.size(); i++) {
      int[] whole = tokenizer.encode(PromptTemplate.DEFAULT.render(examples.get(i).note()));
      assertThat(encoded.get(i).prompt()).as("note %d", i).isEqualTo(whole);
    }
  }

  @Test
  void augmented_rewritesAboutItsShareOfNotes_repeatablyPerEpoch_andLeavesLabelsAlone() {
    List<Example> examples =
        SyntheticNotes.builder(CATALOG).seed(11).build().generate(400).notes().stream()
            .map(GeneratedNote::example)
            .toList();
    List<FineTuner.Encoded> asWritten = tuner.encode(examples, 384);
    HyperParameters half = HyperParameters.builder().augmentation(0.5).seed(3).build();

    List<FineTuner.Encoded> epoch1 = tuner.augmented(asWritten, examples, half, 1);
    List<FineTuner.Encoded> again = tuner.augmented(asWritten, examples, half, 1);
    List<FineTuner.Encoded> epoch2 = tuner.augmented(asWritten, examples, half, 2);

    assertThat(tuner.augmented(asWritten, examples, HyperParameters.DEFAULTS, 1))
        .isSameAs(asWritten);
    long changed =
        java.util.stream.IntStream.range(0, examples.size())
            .filter(i -> !Arrays.equals(epoch1.get(i).prompt(), asWritten.get(i).prompt()))
            .count();
    // Half are drawn; a few rewrites change nothing (a one-segment note reordered, a note already
    // in lower case lowered).
    assertThat(changed).isBetween(140L, 230L);
    for (int i = 0; i < examples.size(); i++) {
      assertThat(again.get(i).prompt()).isEqualTo(epoch1.get(i).prompt());
      assertThat(epoch1.get(i).label()).isEqualTo(asWritten.get(i).label());
    }
    assertThat(
            java.util.stream.IntStream.range(0, examples.size())
                .filter(i -> !Arrays.equals(epoch2.get(i).prompt(), epoch1.get(i).prompt()))
                .count())
        .isGreaterThan(100);
  }
}
