package dev.protorad.clinical.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LexicalModelTest {

  private static final List<String> LABELS = List.of("ct-head-wo", "us-abdomen-ruq", "xr-ankle-3v");

  private static final List<LexicalModel.Labelled> TRAIN =
      List.of(
          new LexicalModel.Labelled("fall, struck head on anticoagulation, confused", "ct-head-wo"),
          new LexicalModel.Labelled("head injury on warfarin, vomiting twice", "ct-head-wo"),
          new LexicalModel.Labelled("sudden worst headache of life", "ct-head-wo"),
          new LexicalModel.Labelled("RUQ pain after fatty meals, ?gallstones", "us-abdomen-ruq"),
          new LexicalModel.Labelled(
              "right upper quadrant pain, Murphy sign positive", "us-abdomen-ruq"),
          new LexicalModel.Labelled("jaundice and biliary colic, ?cholecystitis", "us-abdomen-ruq"),
          new LexicalModel.Labelled(
              "inversion injury ankle, cannot weight bear, Ottawa positive", "xr-ankle-3v"),
          new LexicalModel.Labelled(
              "twisted ankle playing football, malleolar tenderness", "xr-ankle-3v"),
          new LexicalModel.Labelled("ankle swelling after fall down stairs", "xr-ankle-3v"));

  @Test
  void train_predictsTheLabelOfNotesLikeItsTraining_includingMisspellings() {
    LexicalModel model = LexicalModel.train(TRAIN, LABELS, 7);

    assertThat(argmax(model.probabilities("pt fell and hit head, on warfarin"))).isZero();
    assertThat(argmax(model.probabilities("RUQ pian, gallstoens?"))).isEqualTo(1);
    assertThat(argmax(model.probabilities("ANKLE INVERSION, CANNOT WEIGHT BEAR"))).isEqualTo(2);
    double[] p = model.probabilities("anything at all");
    assertThat(p).hasSize(3);
    assertThat(p[0] + p[1] + p[2]).isCloseTo(1.0, within(1e-9));
  }

  @Test
  void unknownWordShare_countsWordsNoTrainingNoteUsed() {
    LexicalModel model = LexicalModel.train(TRAIN, LABELS, 7);

    assertThat(model.unknownWordShare("head injury, vomiting")).isZero();
    assertThat(model.unknownWordShare("head injury, zorbulent")).isCloseTo(1.0 / 3, within(1e-9));
    assertThat(model.unknownWordShare("Bitte Untersuchung wegen Schmerzen")).isEqualTo(1.0);
    assertThat(model.unknownWordShare("... 12 / 34")).isEqualTo(1.0);
  }

  @Test
  void writeThenRead_givesTheSameAnswers(@TempDir Path dir) throws Exception {
    LexicalModel model = LexicalModel.train(TRAIN, LABELS, 7);
    Path file = dir.resolve(LexicalModel.FILE);

    model.write(file);
    LexicalModel read = LexicalModel.read(file);

    assertThat(read.labels()).isEqualTo(LABELS);
    String note = "RUQ pain, ?cholecystitis, zorbulent";
    assertThat(read.probabilities(note)).containsExactly(model.probabilities(note), within(1e-6));
    assertThat(read.unknownWordShare(note)).isEqualTo(model.unknownWordShare(note));
  }

  @Test
  void train_refusesALabelOutsideTheList() {
    assertThatThrownBy(
            () ->
                LexicalModel.train(
                    List.of(new LexicalModel.Labelled("note", "mri-brain-wo")), LABELS, 7))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("mri-brain-wo");
  }

  private static int argmax(double[] p) {
    return ReviewGate.argmax(p);
  }
}
