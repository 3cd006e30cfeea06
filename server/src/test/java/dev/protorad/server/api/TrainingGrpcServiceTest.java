package dev.protorad.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.api.v1.AdapterServiceGrpc;
import dev.protorad.api.v1.ArchiveAdapterVersionRequest;
import dev.protorad.api.v1.FineTuneEvent;
import dev.protorad.api.v1.GetAdapterRequest;
import dev.protorad.api.v1.HyperParameters;
import dev.protorad.api.v1.JobPhase;
import dev.protorad.api.v1.ListAdaptersRequest;
import dev.protorad.api.v1.ListFineTuneJobsRequest;
import dev.protorad.api.v1.SetAdapterAliasRequest;
import dev.protorad.api.v1.StartFineTuneRequest;
import dev.protorad.api.v1.StartFineTuneResponse;
import dev.protorad.api.v1.TrainingExample;
import dev.protorad.api.v1.TrainingServiceGrpc;
import dev.protorad.api.v1.WatchFineTuneRequest;
import dev.protorad.client.ProtoradClient;
import dev.protorad.client.ProtoradException;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.model.LlamaTokenizer;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.server.adapters.AdapterStore;
import dev.protorad.server.jobs.FineTuneJobs;
import dev.protorad.testing.TinyBase;
import dev.protorad.training.FineTuner;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class TrainingGrpcServiceTest {

  @RegisterExtension final GrpcCleanup grpc = new GrpcCleanup();

  private static BaseCheckpoint base;
  private static LlamaTokenizer tokenizer;

  private final String name = InProcessServerBuilder.generateName();
  private ProtoradServer server;
  private FineTuneJobs jobs;
  private AdapterStore store;

  @BeforeAll
  static void loadBase() throws Exception {
    base = TinyBase.create(4);
    tokenizer = LlamaTokenizer.load(TinyBase.TOKENIZER);
  }

  @AfterAll
  static void closeTokenizer() {
    tokenizer.close();
  }

  @AfterEach
  void stop() throws Exception {
    server.shutdown(Duration.ZERO);
    jobs.close();
  }

  private ManagedChannel start(Path dir) throws Exception {
    store = AdapterStore.open(dir.resolve("adapters"), base.config(), base.fingerprint());
    FineTuner tuner =
        FineTuner.create(base, tokenizer, TinyBase.CATALOG, PromptTemplate.DEFAULT, null);
    jobs = FineTuneJobs.create(tuner, store, TinyBase.CATALOG, Clock.systemUTC(), null);
    server =
        ProtoradServer.builder(InProcessServerBuilder.forName(name))
            .trainingService(new TrainingGrpcService(jobs, dir.resolve("datasets")))
            .adapterService(new AdapterGrpcService(store))
            .build()
            .start();
    return grpc.register(InProcessChannelBuilder.forName(name).build());
  }

  private static StartFineTuneRequest request(int steps) {
    StartFineTuneRequest.Builder b =
        StartFineTuneRequest.newBuilder()
            .setAdapterName("tiny")
            .setHyperParameters(
                HyperParameters.newBuilder()
                    .setRank(4)
                    .setAlpha(8)
                    .setBatchSize(4)
                    .setEpochs(100)
                    .setMaxSteps(steps)
                    .setLearningRate(0.01f)
                    .setMaxPromptTokens(40)
                    .setAugmentation(0.25f)
                    .setLabelVocabularySoftmax(true)
                    .setSeed(3));
    String[][] kinds = {
      {"ct-head-wo", "fall with head strike"},
      {"ct-chest-w", "lung mass staging"},
      {"us-pelvis", "pelvic pain"}
    };
    for (int i = 0; i < 8; i++) {
      for (String[] k : kinds) {
        b.addExamples(TrainingExample.newBuilder().setNote(k[1] + " #" + i).setLabel(k[0]));
      }
    }
    return b.build();
  }

  @Test
  void startFineTune_streamsEventsInOrder_andEndsWithVersion(@TempDir Path dir) throws Exception {
    ManagedChannel channel = start(dir);
    List<FineTuneEvent> events = new ArrayList<>();
    FineTuneEvent last =
        ProtoradClient.builder(channel).build().startFineTune(request(12), events::add);

    assertThat(last.getPhase()).isEqualTo(JobPhase.JOB_PHASE_DONE);
    assertThat(last.getAdapterVersion()).isEqualTo("tiny@1");
    assertThat(events.get(0).getPhase()).isEqualTo(JobPhase.JOB_PHASE_QUEUED);
    assertThat(events.stream().map(FineTuneEvent::getPhase).distinct().toList())
        .containsExactly(
            JobPhase.JOB_PHASE_QUEUED,
            JobPhase.JOB_PHASE_VALIDATING,
            JobPhase.JOB_PHASE_TRAINING,
            JobPhase.JOB_PHASE_SAVING,
            JobPhase.JOB_PHASE_DONE);
    List<Integer> steps =
        events.stream()
            .filter(e -> e.getMessage().equals("step"))
            .map(FineTuneEvent::getStep)
            .toList();
    assertThat(steps).hasSize(12).isSorted();
    assertThat(events)
        .filteredOn(e -> e.getMessage().equals("step"))
        .allSatisfy(
            e -> {
              assertThat(e.getTotalSteps()).isEqualTo(12);
              assertThat(e.getLoss()).isPositive();
              assertThat(e.getLearningRate()).isPositive();
              assertThat(e.getTokensPerSecond()).isPositive();
            });

    var listed =
        ProtoradClient.builder(channel)
            .build()
            .listFineTuneJobs(ListFineTuneJobsRequest.getDefaultInstance());
    assertThat(listed.getJobsList()).hasSize(1);
    assertThat(listed.getJobs(0).getLatest().getPhase()).isEqualTo(JobPhase.JOB_PHASE_DONE);
    assertThat(listed.getJobs(0).getCreatedBy()).isEqualTo("anonymous");
    assertThat(
            store
                .get(dev.protorad.server.adapters.AdapterRef.of("tiny", 1))
                .metadata()
                .hyperParameters())
        .containsEntry("max_prompt_tokens", "40")
        .containsEntry("augmentation", "0.25")
        .containsEntry("label_softmax", "label-vocabulary")
        .containsKey("label_vocabulary")
        .containsEntry("seed", "3");
  }

  @Test
  void watchFineTune_reattachesAfterDisconnect(@TempDir Path dir) throws Exception {
    ManagedChannel channel = start(dir);
    Iterator<StartFineTuneResponse> first =
        TrainingServiceGrpc.newBlockingStub(channel).startFineTune(request(10));
    String jobId = first.next().getEvent().getJobId();
    // Disconnect: a fresh channel re-attaches while (or after) the job runs.
    ManagedChannel other = grpc.register(InProcessChannelBuilder.forName(name).build());
    channel.shutdownNow();

    List<FineTuneEvent> events = new ArrayList<>();
    FineTuneEvent last = ProtoradClient.builder(other).build().watchFineTune(jobId, events::add);

    assertThat(events.get(0).getPhase()).isEqualTo(JobPhase.JOB_PHASE_QUEUED);
    assertThat(events).extracting(FineTuneEvent::getJobId).containsOnly(jobId);
    assertThat(last.getPhase()).isEqualTo(JobPhase.JOB_PHASE_DONE);
    assertThat(last.getAdapterVersion()).isEqualTo("tiny@1");
    assertThatThrownBy(
            () ->
                TrainingServiceGrpc.newBlockingStub(other)
                    .watchFineTune(WatchFineTuneRequest.newBuilder().setJobId("nope").build())
                    .next())
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  @Test
  void adapterRpcs_listGetAliasExportImportArchive(@TempDir Path dir) throws Exception {
    ManagedChannel channel = start(dir);
    ProtoradClient client = ProtoradClient.builder(channel).build();
    client.startFineTune(request(3), e -> {});

    assertThat(client.listAdapters(ListAdaptersRequest.getDefaultInstance()).getVersionsList())
        .extracting(v -> v.getRef())
        .containsExactly("tiny@1");
    var alias =
        client.setAdapterAlias(
            SetAdapterAliasRequest.newBuilder()
                .setName("tiny")
                .setAlias("production")
                .setVersion(1)
                .build());
    assertThat(alias.getPreviousVersion()).isZero();
    var got =
        client
            .getAdapter(GetAdapterRequest.newBuilder().setRef("tiny@production").build())
            .getVersion();
    assertThat(got.getAliasesList()).containsExactly("production");
    assertThat(got.getRank()).isEqualTo(4);
    assertThat(got.getContentHash()).hasSize(64);
    var evaluation =
        client.getAdapter(GetAdapterRequest.newBuilder().setRef("tiny@1").build()).getEvaluation();
    assertThat(evaluation.getTrainingLossList()).hasSize(3).allMatch(l -> l > 0);

    Path exported = dir.resolve("exported");
    assertThat(client.exportAdapter("tiny@1", exported).getRef()).isEqualTo("tiny@1");
    assertThat(exported.resolve("adapter_model.safetensors")).exists();
    var imported = client.importAdapter("tiny", exported);
    assertThat(imported.getRef()).isEqualTo("tiny@2");
    assertThat(got.getPromptTemplate()).isEqualTo(PromptTemplate.DEFAULT.version());
    assertThat(imported.getPromptTemplate()).isEqualTo(PromptTemplate.DEFAULT.version());
    var older = client.importAdapter("tiny", exported, "v1");
    assertThat(older.getContentHash())
        .as("the same PEFT files")
        .isEqualTo(imported.getContentHash())
        .as("the trained version's hash covers the evaluation it recorded too")
        .isNotEqualTo(got.getContentHash());
    assertThat(older.getPromptTemplate()).isEqualTo("v1");
    assertThatThrownBy(() -> client.importAdapter("tiny", exported, "v9"))
        .isInstanceOfSatisfying(
            ProtoradException.class,
            e -> assertThat(e.getMessage()).contains("INVALID_ARGUMENT").contains("v9"));

    Files.write(exported.resolve("adapter_model.safetensors"), new byte[] {1, 2, 3});
    assertThatThrownBy(() -> client.importAdapter("tiny", exported))
        .isInstanceOfSatisfying(
            ProtoradException.class, e -> assertThat(e.getMessage()).contains("INVALID_ARGUMENT"));

    assertThatThrownBy(
            () ->
                client.archiveAdapterVersion(
                    ArchiveAdapterVersionRequest.newBuilder().setRef("tiny@1").build()))
        .isInstanceOfSatisfying(
            ProtoradException.class,
            e -> assertThat(e.getMessage()).contains("FAILED_PRECONDITION"));
    client.archiveAdapterVersion(
        ArchiveAdapterVersionRequest.newBuilder().setRef("tiny@2").build());
    assertThat(client.listAdapters(ListAdaptersRequest.getDefaultInstance()).getVersionsList())
        .extracting(v -> v.getRef())
        .containsExactly("tiny@1", "tiny@3");
    assertThatThrownBy(
            () ->
                AdapterServiceGrpc.newBlockingStub(channel)
                    .getAdapter(GetAdapterRequest.newBuilder().setRef("tiny@9").build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  @Test
  void startFineTune_startFrom_registersTheParent_andRefusesWhatCannotContinue(@TempDir Path dir)
      throws Exception {
    ManagedChannel channel = start(dir);
    ProtoradClient client = ProtoradClient.builder(channel).build();
    client.startFineTune(request(3), e -> {});

    FineTuneEvent last =
        client.startFineTune(request(2).toBuilder().setStartFrom("tiny@1").build(), e -> {});

    assertThat(last.getAdapterVersion()).isEqualTo("tiny@2");
    assertThat(
            client
                .getAdapter(GetAdapterRequest.newBuilder().setRef("tiny@2").build())
                .getVersion()
                .getParent())
        .isEqualTo("tiny@1");
    assertThat(
            client
                .getAdapter(GetAdapterRequest.newBuilder().setRef("tiny@1").build())
                .getVersion()
                .getParent())
        .isEmpty();
    var stub = TrainingServiceGrpc.newBlockingStub(channel);
    StartFineTuneRequest otherRank =
        request(2).toBuilder()
            .setStartFrom("tiny@1")
            .setHyperParameters(request(2).getHyperParameters().toBuilder().setRank(8))
            .build();
    assertThatThrownBy(() -> stub.startFineTune(otherRank).hasNext())
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription()).contains("rank 4").contains("rank 8");
            });
    assertThatThrownBy(
            () ->
                stub.startFineTune(request(2).toBuilder().setStartFrom("tiny@9").build()).hasNext())
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    assertThatThrownBy(
            () ->
                stub.startFineTune(request(2).toBuilder().setStartFrom("Tiny@@").build()).hasNext())
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription()).startsWith("start_from:");
            });
    assertThat(client.listAdapters(ListAdaptersRequest.getDefaultInstance()).getVersionsCount())
        .isEqualTo(2);
  }

  @Test
  void uploadDataset_overGrpcsMessageLimit_isStoredWhole_withEachLinesSplit(@TempDir Path dir)
      throws Exception {
    ManagedChannel channel = start(dir);
    StringBuilder jsonl = new StringBuilder();
    int[] perSplit = new int[3];
    String[] splits = {"train", "validation", "test"};
    String[] labels = {"ct-head-wo", "ct-chest-w", "us-pelvis"};
    for (int i = 0; jsonl.length() < 5 << 20; i++) {
      int s = i % 10 < 8 ? 0 : i % 10 == 8 ? 1 : 2;
      perSplit[s]++;
      jsonl.append(
          String.format(
              "{\"note\":\"order %d: %s\",\"label\":\"%s\",\"split\":\"%s\"}%n",
              i, "history and indication ".repeat(8) + i * 7919, labels[i % 3], splits[s]));
    }
    byte[] bytes = jsonl.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    ProtoradClient client = ProtoradClient.builder(channel).build();

    var stored = client.uploadDataset(new java.io.ByteArrayInputStream(bytes), false);
    var again = client.uploadDataset(new java.io.ByteArrayInputStream(bytes), false);

    assertThat(bytes.length).isGreaterThan(4 << 20);
    assertThat(stored.getSizeBytes()).isEqualTo(bytes.length);
    assertThat(stored.getExamples()).isEqualTo(perSplit[0] + perSplit[1] + perSplit[2]);
    assertThat(List.of(stored.getTrain(), stored.getValidation(), stored.getTest()))
        .containsExactly(perSplit[0], perSplit[1], perSplit[2]);
    assertThat(stored.getUnsplit()).isZero();
    assertThat(stored.getDatasetPath()).isEqualTo("uploads/" + stored.getSha256() + ".jsonl");
    assertThat(stored.getSha256()).isEqualTo(FineTuneJobs.sha256(bytes));
    assertThat(Files.readAllBytes(dir.resolve("datasets").resolve(stored.getDatasetPath())))
        .isEqualTo(bytes);
    assertThat(again.getDatasetPath()).isEqualTo(stored.getDatasetPath());
    assertThat(
            java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(
                    dir.resolve("datasets").resolve(stored.getDatasetPath()))))
        .isEqualTo("rw-------");
    try (var left = Files.list(dir.resolve("datasets/uploads"))) {
      assertThat(left.map(p -> p.getFileName().toString()))
          .containsExactly(stored.getSha256() + ".jsonl");
    }
  }

  @Test
  void uploadDataset_withInvalidLines_isRefusedNamingTheLinesNotTheirText_orSkipsThem(
      @TempDir Path dir) throws Exception {
    ManagedChannel channel = start(dir);
    String jsonl =
        """
        {"note":"fall, head strike","label":"ct-head-wo"}
        {"note":"SECRET-NOTE-TEXT","label":"no-such-protocol"}
        {"note":"lung mass","label":"ct-chest-w","split":"test"}
        """;
    ProtoradClient client = ProtoradClient.builder(channel).build();

    assertThatThrownBy(() -> client.uploadDataset(stream(jsonl), false))
        .isInstanceOfSatisfying(
            ProtoradException.class,
            e -> {
              assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getMessage()).contains("line 2").doesNotContain("SECRET");
            });
    assertThat(dir.resolve("datasets/uploads")).isEmptyDirectory();
    var skipped = client.uploadDataset(stream(jsonl), true);
    assertThat(List.of(skipped.getExamples(), skipped.getSkipped(), skipped.getUnsplit()))
        .containsExactly(2, 1, 1);
    assertThatThrownBy(() -> client.uploadDataset(stream(""), false))
        .isInstanceOfSatisfying(
            ProtoradException.class,
            e -> assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }

  @Test
  void startFineTune_onAnUploadedDataset_trainsAndEvaluatesOnTheSplitsItNames(@TempDir Path dir)
      throws Exception {
    ManagedChannel channel = start(dir);
    StringBuilder jsonl = new StringBuilder();
    StartFineTuneRequest inline = request(2);
    for (int i = 0; i < inline.getExamplesCount(); i++) {
      TrainingExample e = inline.getExamples(i);
      String split = i < 5 ? "test" : i < 11 ? "validation" : "train";
      jsonl.append(
          String.format(
              "{\"note\":\"%s\",\"label\":\"%s\",\"split\":\"%s\"}%n",
              e.getNote(), e.getLabel(), split));
    }
    ProtoradClient client = ProtoradClient.builder(channel).build();
    var stored = client.uploadDataset(stream(jsonl.toString()), false);
    List<FineTuneEvent> events = new ArrayList<>();

    FineTuneEvent last =
        client.startFineTune(
            inline.toBuilder().clearExamples().setDatasetPath(stored.getDatasetPath()).build(),
            events::add);

    assertThat(last.getPhase()).isEqualTo(JobPhase.JOB_PHASE_DONE);
    assertThat(events)
        .extracting(FineTuneEvent::getMessage)
        .contains("splits: 13 train, 6 validation, 5 test");
  }

  @Test
  void inlineExamples_keepTheSplitTheyName(@TempDir Path dir) throws Exception {
    ManagedChannel channel = start(dir);
    StartFineTuneRequest.Builder split = request(2).toBuilder();
    for (int i = 0; i < split.getExamplesCount(); i++) {
      String named = i < 4 ? "test" : i < 8 ? "validation" : "train";
      split.setExamples(i, split.getExamples(i).toBuilder().setSplit(named));
    }
    List<FineTuneEvent> events = new ArrayList<>();

    ProtoradClient.builder(channel).build().startFineTune(split.build(), events::add);

    assertThat(events)
        .extracting(FineTuneEvent::getMessage)
        .contains("splits: 16 train, 4 validation, 4 test");
  }

  private static java.io.InputStream stream(String text) {
    return new java.io.ByteArrayInputStream(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }
}
