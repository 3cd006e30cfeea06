package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.ListAdaptersRequest;
import dev.protorad.api.v1.ListFineTuneJobsRequest;
import dev.protorad.api.v1.SetAdapterAliasRequest;
import dev.protorad.api.v1.StartFineTuneRequest;
import dev.protorad.api.v1.TrainingExample;
import dev.protorad.client.ProtoradException;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code server.role}: a serving replica answers predictions and adapter reads but refuses training
 * and adapter writes; a training replica the reverse; each refusal says where to go instead.
 */
class ServerRoleTest {

  private static final AssignProtocolRequest ASSIGN =
      AssignProtocolRequest.newBuilder().setOrderId("O-1").setNote("ct head, fall").build();

  @TempDir Path dir;

  @Test
  void aServingReplica_answersPredictions_andRefusesTrainingAndAdapterWrites() throws Exception {
    try (DemoServer server = DemoServer.start(dir, config("serve"))) {
      assertThat(server.as("clinician").assignProtocol(ASSIGN).getPredictionId()).isNotEmpty();
      var ml = server.as("ml-engineer");
      assertThat(ml.listAdapters(ListAdaptersRequest.getDefaultInstance())).isNotNull();

      refused(
          () ->
              ml.startFineTune(
                  StartFineTuneRequest.newBuilder()
                      .setAdapterName("x")
                      .addExamples(TrainingExample.newBuilder().setNote("n").setLabel("ct-head-wo"))
                      .build(),
                  e -> {}),
          "server.role: serve");
      refused(
          () ->
              server
                  .as("ml-lead")
                  .setAdapterAlias(
                      SetAdapterAliasRequest.newBuilder()
                          .setName("protocol")
                          .setAlias("production")
                          .setVersion(1)
                          .build()),
          "server.role: serve");
    }
  }

  @Test
  void aTrainingReplica_trains_andRefusesPredictions() throws Exception {
    try (DemoServer server = DemoServer.start(dir, config("train"))) {
      assertThat(
              server
                  .as("ml-engineer")
                  .listFineTuneJobs(ListFineTuneJobsRequest.getDefaultInstance())
                  .getJobsList())
          .isEmpty();
      refused(() -> server.as("clinician").assignProtocol(ASSIGN), "server.role: train");
    }
  }

  private Path config(String role) throws Exception {
    return Files.writeString(dir.resolve("protorad.yaml"), "server:\n  role: " + role + "\n");
  }

  private static void refused(ThrowingCallable call, String why) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            ProtoradException.class,
            e -> {
              assertThat(e.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
              assertThat(e.getMessage()).contains(why);
            });
  }
}
