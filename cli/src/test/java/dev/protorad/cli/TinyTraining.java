package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.api.v1.HyperParameters;
import dev.protorad.api.v1.JobPhase;
import dev.protorad.api.v1.StartFineTuneRequest;
import dev.protorad.api.v1.TrainingExample;
import dev.protorad.client.ProtoradClient;

/**
 * A two-step fine-tune of adapter {@code tiny} on 12 notes, with 3 for its review gate and 3 for
 * its recorded evaluation: enough to register a version.
 */
final class TinyTraining {

  private TinyTraining() {}

  /** Trains {@code tiny} through {@code ml} (a {@code training:run} principal) to DONE. */
  static void train(ProtoradClient ml) {
    StartFineTuneRequest.Builder request =
        StartFineTuneRequest.newBuilder()
            .setAdapterName("tiny")
            .setHyperParameters(
                HyperParameters.newBuilder()
                    .setRank(4)
                    .setAlpha(8)
                    .setBatchSize(4)
                    .setMaxSteps(2)
                    .setMaxPromptTokens(32));
    String[][] kinds = {
      {"ct-head-wo", "fall with head strike"},
      {"ct-chest-w", "lung mass staging"},
      {"us-pelvis", "pelvic pain"}
    };
    for (int i = 0; i < 6; i++) {
      for (String[] k : kinds) {
        request.addExamples(
            TrainingExample.newBuilder()
                .setNote(k[1] + " #" + i)
                .setLabel(k[0])
                .setSplit(i < 4 ? "train" : i == 4 ? "validation" : "test"));
      }
    }
    assertThat(ml.startFineTune(request.build(), e -> {}).getPhase())
        .isEqualTo(JobPhase.JOB_PHASE_DONE);
  }
}
