package dev.protorad.server.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.clinical.gate.VersionGate;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.model.AdapterHandle;
import dev.protorad.engine.model.LabelScorer;
import dev.protorad.engine.model.LabelScores;
import dev.protorad.engine.model.LlamaModel;
import dev.protorad.engine.model.LlamaTokenizer;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.engine.model.RankedLabel;
import dev.protorad.engine.peft.LabelVocabulary;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.server.adapters.AdapterRef;
import dev.protorad.server.adapters.AdapterStore;
import dev.protorad.server.adapters.AdapterVersion;
import dev.protorad.testing.TinyBase;
import dev.protorad.training.EvalSummary;
import dev.protorad.training.Evaluator;
import dev.protorad.training.FineTuner;
import dev.protorad.training.HyperParameters;
import dev.protorad.training.JobPhase;
import dev.protorad.training.eval.EvalCurves;
import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;

class FineTuneJobsTest {

  private static BaseCheckpoint base;
  private static LlamaTokenizer tokenizer;
  private static LlamaModel serving;
  private static FineTuner tuner;

  @BeforeAll
  static void setUp() throws Exception {
    base = TinyBase.create(3);
    tokenizer = LlamaTokenizer.load(TinyBase.TOKENIZER);
    serving = LlamaModel.builder(base).preferGpu(false).build();
    Evaluator evaluator =
        Evaluator.of(serving, tokenizer, TinyBase.CATALOG, PromptTemplate.DEFAULT);
    tuner = FineTuner.create(base, tokenizer, TinyBase.CATALOG, PromptTemplate.DEFAULT, evaluator);
  }

  @AfterAll
  static void tearDown() {
    serving.close();
    tokenizer.close();
  }

  static HyperParameters quick(int steps) {
    return HyperParameters.builder()
        .rank(4)
        .alpha(8)
        .batchSize(4)
        .epochs(50)
        .maxSteps(steps)
        .learningRate(1e-2)
        .validationSplit(0.1)
        .validationLimit(3)
        .seed(5)
        .build();
  }

  private static AdapterStore store(Path dir) throws Exception {
    return AdapterStore.open(dir, base.config(), base.fingerprint());
  }

  private static FineTuneJobs jobs(AdapterStore store) {
    return FineTuneJobs.create(tuner, store, TinyBase.CATALOG, Clock.systemUTC(), null);
  }

  @Test
  void fineTune_lowersLossAndRegistersNextVersion(@TempDir Path dir) throws Exception {
    AdapterStore store = store(dir);
    try (FineTuneJobs jobs = jobs(store)) {
      List<FineTuneEvent> events = run(jobs, quick(200), "tiny");

      FineTuneEvent last = events.get(events.size() - 1);
      assertThat(last.phase()).isEqualTo(JobPhase.DONE);
      assertThat(last.adapterVersion()).isEqualTo("tiny@1");
      List<FineTuneEvent> steps = events.stream().filter(e -> e.message().equals("step")).toList();
      assertThat(steps).hasSize(200);
      double first =
          steps.subList(0, 10).stream().mapToDouble(FineTuneEvent::loss).average().orElseThrow();
      double lastLoss =
          steps.subList(190, 200).stream().mapToDouble(FineTuneEvent::loss).average().orElseThrow();
      assertThat(lastLoss).isLessThan(first - 1.5);
      assertThat(events)
          .anyMatch(e -> e.metrics() != null && e.metrics().split().equals("validation"));
      assertThat(events.stream().map(FineTuneEvent::phase).distinct())
          .containsSubsequence(
              JobPhase.QUEUED,
              JobPhase.VALIDATING,
              JobPhase.TRAINING,
              JobPhase.EVALUATING,
              JobPhase.SAVING,
              JobPhase.DONE);

      AdapterVersion v = store.list(Optional.of("tiny"), false).get(0);
      assertThat(v.metadata().metrics()).containsKeys("train.loss.last", "validation.accuracy");
      assertThat(v.metadata().createdBy()).isEqualTo("alice");
      assertThat(v.metadata().baseFingerprint()).isEqualTo(base.fingerprint());
      assertThat(v.metadata().promptTemplate()).isEqualTo(PromptTemplate.DEFAULT.text());
      assertThat(VersionGate.load(v.dir(), AdapterStore.METADATA_FILE))
          .as("a review gate fitted on the job's validation split")
          .isPresent();
      EvalCurves curves = store.evaluation(v).orElseThrow();
      assertThat(curves.split()).as("the test split, when the job drew one").isEqualTo("test");
      assertThat(curves.examples()).isPositive();
      assertThat(curves.reliability().stream().mapToInt(EvalCurves.Bin::count).sum())
          .isEqualTo(curves.examples());
      assertThat(curves.confusion().stream().mapToInt(EvalCurves.Cell::count).sum())
          .isEqualTo(curves.examples());
      assertThat(curves.trainingLoss()).hasSize(200);
      assertThat(curves.trainingLoss().get(0))
          .isCloseTo(steps.get(0).loss(), org.assertj.core.api.Assertions.within(1e-6));
      VersionGate gate = VersionGate.load(v.dir(), AdapterStore.METADATA_FILE).orElseThrow();
      assertThat(curves.gate())
          .isEqualTo(
              new EvalCurves.Point(
                  gate.gate().calibrationCoverage(),
                  gate.gate().calibrationPrecision(),
                  gate.gate().threshold()));

      run(jobs, quick(2), "tiny");
      assertThat(store.list(Optional.of("tiny"), false))
          .extracting(AdapterVersion::ref)
          .containsExactly("tiny@1", "tiny@2");
    }
  }

  @Test
  void fineTune_withALabelVocabularySoftmax_recordsItsVocabulary_andScoresWithIt(@TempDir Path dir)
      throws Exception {
    AdapterStore store = store(dir);
    HyperParameters hp =
        quick(60).toBuilder().validationSplit(0).labelVocabularySoftmax(true).build();
    try (FineTuneJobs jobs = jobs(store)) {
      List<FineTuneEvent> events = run(jobs, hp, "lv");

      assertThat(events.get(events.size() - 1).phase()).isEqualTo(JobPhase.DONE);
      List<FineTuneEvent> steps = events.stream().filter(e -> e.message().equals("step")).toList();
      double first =
          steps.subList(0, 10).stream().mapToDouble(FineTuneEvent::loss).average().orElseThrow();
      double last =
          steps.subList(50, 60).stream().mapToDouble(FineTuneEvent::loss).average().orElseThrow();
      assertThat(last).isLessThan(first);
    }
    // Every token of every catalog label, as the scorer takes them after the template's anchor.
    int anchor = tokenizer.encode(PromptTemplate.DEFAULT.anchor()).length;
    List<int[]> labels = new java.util.ArrayList<>();
    for (var p : TinyBase.CATALOG.protocols()) {
      int[] full =
          tokenizer.encode(
              PromptTemplate.DEFAULT.anchor() + p.name() + PromptTemplate.DEFAULT.labelSuffix());
      labels.add(java.util.Arrays.copyOfRange(full, anchor, full.length));
    }
    LabelVocabulary expected = LabelVocabulary.covering(labels);
    AdapterVersion v = store.get(AdapterRef.parse("lv@1"));
    assertThat(v.metadata().hyperParameters())
        .containsEntry(HyperParameters.LABEL_SOFTMAX, "label-vocabulary")
        .containsEntry(LabelVocabulary.HYPER_PARAMETER, expected.recorded());
    LoraAdapter loaded = store.load(AdapterRef.parse("lv@1"));
    assertThat(loaded.labelVocabulary()).contains(expected);
    assertThat(AdapterStore.read(v.dir(), base.config()).labelVocabulary()).contains(expected);

    List<String> names = TinyBase.CATALOG.protocols().stream().map(p -> p.name()).toList();
    LabelScorer scorer = LabelScorer.create(serving, tokenizer, PromptTemplate.DEFAULT);
    try (AdapterHandle handle = serving.loadAdapter("lv@1", loaded);
        AdapterHandle whole = serving.loadAdapter("lv@1-whole", loaded.withLabelVocabulary(null))) {
      LabelScores restricted = scorer.score("knee pain after a fall", names, handle, 3);
      LabelScores unrestricted = scorer.score("knee pain after a fall", names, whole, 3);
      double total = restricted.labels().stream().mapToDouble(RankedLabel::probability).sum();
      assertThat(total).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-9));
      // The label tokens compete with each other only: each label is at least as likely.
      for (int j = 0; j < names.size(); j++) {
        assertThat(restricted.labels().get(j).logLikelihood())
            .isGreaterThanOrEqualTo(unrestricted.labels().get(j).logLikelihood() - 1e-4);
      }
    }
  }

  @Test
  void fineTune_sameSeed_repeatsLossCurve() throws Exception {
    HyperParameters hp = quick(6).toBuilder().validationSplit(0).dropout(0.1).build();
    FineTuner.Splits splits = splits();
    List<Double> a = tunerWithoutEval().run(splits, hp, silent(), () -> false, null).losses();
    List<Double> b = tunerWithoutEval().run(splits, hp, silent(), () -> false, null).losses();
    List<Double> c =
        tunerWithoutEval()
            .run(splits, hp.toBuilder().seed(6).build(), silent(), () -> false, null)
            .losses();

    assertThat(b).hasSize(6);
    for (int i = 0; i < a.size(); i++) {
      assertThat(b.get(i)).isCloseTo(a.get(i), org.assertj.core.data.Offset.offset(1e-6));
    }
    assertThat(c).isNotEqualTo(a);
  }

  @Test
  void fineTune_cancelled_registersNothing(@TempDir Path dir) throws Exception {
    AdapterStore store = store(dir);
    try (FineTuneJobs jobs = jobs(store)) {
      CountDownLatch training = new CountDownLatch(1);
      CountDownLatch ended = new CountDownLatch(1);
      List<FineTuneEvent> events = new CopyOnWriteArrayList<>();
      FineTuneJob job =
          jobs.submit(
              new FineTuneRequest(
                  "tiny",
                  TinyBase.jsonl(10),
                  quick(100_000).toBuilder().maxSteps(0).build(),
                  false,
                  "alice"));
      FineTuneJob queued =
          jobs.submit(new FineTuneRequest("tiny", TinyBase.jsonl(10), quick(5), false, "alice"));
      jobs.watch(
          job.jobId(),
          e -> {
            events.add(e);
            if (e.phase() == JobPhase.TRAINING && e.step() >= 2) training.countDown();
            if (e.phase().terminal()) ended.countDown();
          });
      assertThat(jobs.get(queued.jobId()).orElseThrow().latest().phase())
          .isEqualTo(JobPhase.QUEUED);
      assertThat(jobs.cancel(queued.jobId()).latest().phase()).isEqualTo(JobPhase.CANCELLED);

      assertThat(training.await(60, TimeUnit.SECONDS)).isTrue();
      jobs.cancel(job.jobId());

      assertThat(ended.await(60, TimeUnit.SECONDS)).isTrue();
      assertThat(events.get(events.size() - 1).phase()).isEqualTo(JobPhase.CANCELLED);
      assertThat(store.list(Optional.empty(), true)).isEmpty();
    }
  }

  @Test
  void fineTune_invalidDataset_failsWithCountsAndRegistersNothing(@TempDir Path dir)
      throws Exception {
    AdapterStore store = store(dir);
    try (FineTuneJobs jobs = jobs(store)) {
      byte[] bad =
          "{\"note\": \"secret canary text\", \"label\": \"no-such-label\"}\n"
              .getBytes(StandardCharsets.UTF_8);
      List<FineTuneEvent> events = new CopyOnWriteArrayList<>();
      CountDownLatch ended = new CountDownLatch(1);
      FineTuneJob job = jobs.submit(new FineTuneRequest("tiny", bad, quick(2), false, "alice"));
      jobs.watch(
          job.jobId(),
          e -> {
            events.add(e);
            if (e.phase().terminal()) ended.countDown();
          });

      assertThat(ended.await(30, TimeUnit.SECONDS)).isTrue();
      FineTuneEvent last = events.get(events.size() - 1);
      assertThat(last.phase()).isEqualTo(JobPhase.FAILED);
      assertThat(last.error()).contains("dataset refused").doesNotContain("canary");
      assertThat(store.list(Optional.empty(), true)).isEmpty();
    }
  }

  @Test
  void fineTune_startFrom_continuesTheParentsFactorsAndRecordsIt(@TempDir Path dir)
      throws Exception {
    AdapterStore store = store(dir);
    try (FineTuneJobs jobs = jobs(store)) {
      HyperParameters hp = quick(80).toBuilder().validationSplit(0).build();
      List<FineTuneEvent> fresh = run(jobs, hp, "tiny", null);
      assertThat(fresh.get(fresh.size() - 1).adapterVersion()).isEqualTo("tiny@1");

      // A bare name resolves, when queued, to the version it names then.
      List<FineTuneEvent> continued =
          run(jobs, hp.toBuilder().maxSteps(3).build(), "tiny", AdapterRef.parse("tiny"));

      assertThat(continued.get(continued.size() - 1).adapterVersion()).isEqualTo("tiny@2");
      // Same seed, same first batch: the fresh run met it with zero B factors, the continued run
      // with tiny@1's trained ones.
      double freshFirst = firstLoss(fresh);
      assertThat(firstLoss(continued)).isLessThan(freshFirst - 1.0);
      AdapterVersion v2 = store.get(AdapterRef.of("tiny", 2));
      assertThat(v2.metadata().parent()).isEqualTo("tiny@1");
      assertThat(store.get(AdapterRef.of("tiny", 1)).metadata().parent()).isEmpty();
      assertThat(java.nio.file.Files.readString(v2.dir().resolve("metadata.json")))
          .contains("\"parent\" : \"tiny@1\"");
    }
  }

  @Test
  void fineTune_startFrom_refusesAnotherRankOrAMissingVersion(@TempDir Path dir) throws Exception {
    AdapterStore store = store(dir);
    try (FineTuneJobs jobs = jobs(store)) {
      run(jobs, quick(2), "tiny", null);
      HyperParameters rank8 = quick(2).toBuilder().rank(8).build();

      assertThatThrownBy(() -> submit(jobs, rank8, "tiny@1"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("start_from")
          .hasMessageContaining("rank 4")
          .hasMessageContaining("rank 8");
      assertThatThrownBy(() -> submit(jobs, quick(2), "tiny@7"))
          .isInstanceOf(NoSuchElementException.class);
      assertThat(store.list(Optional.empty(), true))
          .extracting(AdapterVersion::ref)
          .containsExactly("tiny@1");
      assertThat(jobs.list()).hasSize(1);
    }
  }

  private static FineTuneJob submit(FineTuneJobs jobs, HyperParameters hp, String startFrom) {
    return jobs.submit(
        new FineTuneRequest(
            "tiny", TinyBase.jsonl(12), hp, false, "alice", AdapterRef.parse(startFrom)));
  }

  private static double firstLoss(List<FineTuneEvent> events) {
    return events.stream().filter(e -> e.message().equals("step")).findFirst().orElseThrow().loss();
  }

  static List<FineTuneEvent> run(FineTuneJobs jobs, HyperParameters hp, String name)
      throws Exception {
    return run(jobs, hp, name, null);
  }

  static List<FineTuneEvent> run(
      FineTuneJobs jobs, HyperParameters hp, String name, AdapterRef startFrom) throws Exception {
    FineTuneJob job =
        jobs.submit(new FineTuneRequest(name, TinyBase.jsonl(12), hp, false, "alice", startFrom));
    List<FineTuneEvent> events = new CopyOnWriteArrayList<>();
    CountDownLatch ended = new CountDownLatch(1);
    jobs.watch(
        job.jobId(),
        e -> {
          events.add(e);
          if (e.phase().terminal()) ended.countDown();
        });
    assertThat(ended.await(120, TimeUnit.SECONDS)).isTrue();
    return events;
  }

  @Test
  void submit_beyondTheQueueBound_isRefused(@TempDir Path dir) throws Exception {
    try (FineTuneJobs jobs = jobs(store(dir))) {
      List<FineTuneJob> accepted = new java.util.ArrayList<>();
      for (int i = 0; i < FineTuneJobs.MAX_PENDING; i++) {
        accepted.add(
            jobs.submit(
                new FineTuneRequest(
                    "tiny", TinyBase.jsonl(12), quick(100_000), false, "alice", null)));
      }

      assertThatThrownBy(
              () ->
                  jobs.submit(
                      new FineTuneRequest(
                          "tiny", TinyBase.jsonl(12), quick(2), false, "alice", null)))
          .isInstanceOf(java.util.concurrent.RejectedExecutionException.class)
          .hasMessageContaining("training queue full");
      accepted.forEach(j -> jobs.cancel(j.jobId()));
    }
  }

  @ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.ValueSource(
      strings = {"rank", "epochs", "batch_size", "max_steps", "max_prompt_tokens", "alpha"})
  void hyperParameters_areBoundedAboveToo(String field) {
    HyperParameters.Builder b = HyperParameters.builder();
    switch (field) {
      case "rank" -> b.rank(100_000);
      case "epochs" -> b.epochs(1_000_000);
      case "batch_size" -> b.batchSize(1_000_000);
      case "max_steps" -> b.maxSteps(Integer.MAX_VALUE);
      case "max_prompt_tokens" -> b.maxPromptTokens(1_000_000);
      default -> b.alpha(1e9);
    }

    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(field + ": ");
  }

  @Test
  void run_dropsTheLoadedBase_onceItIsOnTheDevice() throws Exception {
    List<WeakReference<BaseCheckpoint>> loaded = new CopyOnWriteArrayList<>();
    FineTuner fresh =
        FineTuner.create(
            () -> {
              BaseCheckpoint b = TinyBase.create(3);
              loaded.add(new WeakReference<>(b));
              return b;
            },
            tokenizer,
            TinyBase.CATALOG,
            PromptTemplate.DEFAULT,
            null);
    HyperParameters hp = quick(3);
    List<Boolean> reachableAtStep = new CopyOnWriteArrayList<>();
    FineTuner.Listener probe =
        new FineTuner.Listener() {
          @Override
          public void phase(JobPhase phase, String message) {}

          @Override
          public void step(FineTuner.StepProgress progress) {
            for (int i = 0; i < 5 && loaded.get(0).get() != null; i++) {
              System.gc();
            }
            reachableAtStep.add(loaded.get(0).get() != null);
          }

          @Override
          public void evaluated(int epoch, EvalSummary summary) {}
        };

    fresh.run(splits(), hp, probe, () -> false, null);

    assertThat(loaded).hasSize(1);
    assertThat(reachableAtStep).hasSize(3).containsOnly(false);
  }

  private static FineTuner tunerWithoutEval() {
    return FineTuner.create(base, tokenizer, TinyBase.CATALOG, PromptTemplate.DEFAULT, null);
  }

  private static FineTuner.Splits splits() {
    var data =
        dev.protorad.training.data.DatasetValidator.of(TinyBase.CATALOG)
            .validate(TinyBase.jsonl(8), false);
    return new FineTuner.Splits(data.examples(), List.of(), List.of());
  }

  private static FineTuner.Listener silent() {
    return new FineTuner.Listener() {
      @Override
      public void phase(JobPhase phase, String message) {}

      @Override
      public void step(FineTuner.StepProgress progress) {}

      @Override
      public void evaluated(int epoch, EvalSummary summary) {}
    };
  }
}
