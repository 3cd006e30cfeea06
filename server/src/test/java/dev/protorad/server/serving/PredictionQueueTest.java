package dev.protorad.server.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.withinPercentage;

import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.Projection;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.engine.peft.LoraConfig;
import dev.protorad.engine.peft.LoraPair;
import dev.protorad.engine.peft.TargetModules;
import dev.protorad.server.api.TinyModel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The batching scheduler over the real tiny model and real adapters. */
class PredictionQueueTest {

  private static final List<String> NOTES =
      List.of(
          "r/o PE, SOB, tachy",
          "58F RLQ pain fever r/o appy",
          "head trauma on warfarin, confused",
          "LBP radiating to leg, numbness, eval disc");

  private final ServingModel model = TinyModel.shared();

  /** An adapter with random, non-zero A and B, so that it changes the answers. */
  private ResolvedAdapter adapter(String name, long seed) {
    return adapter(name, seed, PromptTemplate.DEFAULT);
  }

  private ResolvedAdapter adapter(String name, long seed, PromptTemplate template) {
    ModelConfig base = model.config();
    LoraConfig config = LoraConfig.of(4, 16, TargetModules.of("q_proj", "v_proj"));
    Random random = new Random(seed);
    Map<String, LoraPair> pairs = new HashMap<>();
    for (int layer = 0; layer < base.numHiddenLayers(); layer++) {
      for (Projection p : List.of(Projection.Q_PROJ, Projection.V_PROJ)) {
        int in = p.inFeatures(base);
        int out = p.outFeatures(base);
        pairs.put(
            p.modulePath(layer),
            new LoraPair(randoms(random, 4 * in), randoms(random, out * 4), 4, in, out, 4f));
      }
    }
    LoraAdapter adapter = LoraAdapter.of(base, config, pairs);
    return new ResolvedAdapter(name, model.model().loadAdapter(name, adapter), template);
  }

  private static float[] randoms(Random random, int n) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) (random.nextGaussian() * 0.2);
    }
    return out;
  }

  @Test
  void concurrentRequestsOnDifferentAdapters_getTheSameAnswersAsAlone() throws Exception {
    List<ResolvedAdapter> adapters =
        List.of(ResolvedAdapter.BASE, adapter("a@1", 1), adapter("b@1", 2));
    try (PredictionQueue queue =
        PredictionQueue.create(
            model.predictor(), new PredictionQueue.Settings(1, 64, 8, Duration.ofMillis(50)))) {
      List<CompletableFuture<ProtocolAnswer>> futures = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        futures.add(queue.submit(NOTES.get(i % 4), adapters.get(i % 3), 5));
      }
      for (int i = 0; i < 12; i++) {
        ProtocolAnswer batched = futures.get(i).get(60, TimeUnit.SECONDS);
        ProtocolAnswer alone = model.predictor().predict(NOTES.get(i % 4), adapters.get(i % 3), 5);
        assertThat(batched.adapterVersion()).isEqualTo(adapters.get(i % 3).version());
        assertThat(batched.label()).isEqualTo(alone.label());
        for (int k = 0; k < 5; k++) {
          assertThat(batched.alternatives().get(k).probability())
              .isCloseTo(
                  alone.alternatives().get(k).probability(),
                  org.assertj.core.data.Offset.offset(1e-4));
        }
      }
    }
  }

  @Test
  void timings_countEveryBatchAndAnswer_andTimeTheStepChainedOnTheAnswer() throws Exception {
    try (PredictionQueue queue =
        PredictionQueue.create(
            model.predictor(), new PredictionQueue.Settings(1, 64, 4, Duration.ofMillis(50)))) {
      assertThat(queue.timings().batches()).isZero();
      List<CompletableFuture<Object>> chained = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        // As the server chains its audit append and insert: run by whoever completes the answer.
        chained.add(
            queue
                .submit(NOTES.get(i % 4), ResolvedAdapter.BASE, 3)
                .thenApply(
                    a -> {
                      sleep(20);
                      return a;
                    }));
      }
      for (CompletableFuture<Object> f : chained) {
        f.get(60, TimeUnit.SECONDS);
      }

      PredictionQueue.Timings t = queue.timings();
      assertThat(t.predictions()).isEqualTo(8);
      assertThat(t.batches()).isBetween(2L, 8L);
      assertThat(t.meanBatch()).isEqualTo(8.0 / t.batches());
      // The chained step's 20 ms of sleep count as answer time, not as model time.
      assertThat(t.answerMillis()).isGreaterThanOrEqualTo(20);
      assertThat(t.modelMillisPerBatch()).isPositive();
      assertThat(t.queueWaitMillis()).isNotNegative();
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void eachAdapter_isPromptedWithItsOwnTemplate_aloneAndInABatch() throws Exception {
    String shouted = "58F RLQ PAIN FEVER R/O APPY";
    ResolvedAdapter folding = adapter("v2@1", 5, PromptTemplate.V2);
    ResolvedAdapter asWritten = adapter("v1@1", 5, PromptTemplate.V1);

    ProtocolAnswer folded = model.predictor().predict(shouted, folding, 5);
    ProtocolAnswer lowered =
        model.predictor().predict(shouted.toLowerCase(Locale.ROOT), folding, 5);
    ProtocolAnswer kept = model.predictor().predict(shouted, asWritten, 5);
    List<ProtocolAnswer> batch =
        model
            .predictor()
            .predictBatch(
                List.of(
                    new ProtocolPredictor.Item(shouted, asWritten, 5),
                    new ProtocolPredictor.Item(shouted, folding, 5)));

    // The same prompt tokens give the same numbers; the runner-up shows the prompts apart (the
    // tiny model puts almost all mass on its first label).
    assertThat(probabilities(folded)).isEqualTo(probabilities(lowered));
    assertThat(runnerUp(kept)).isNotCloseTo(runnerUp(folded), withinPercentage(1));
    assertThat(runnerUp(batch.get(0))).isCloseTo(runnerUp(kept), withinPercentage(0.1));
    assertThat(runnerUp(batch.get(1))).isCloseTo(runnerUp(folded), withinPercentage(0.1));
  }

  private static List<Double> probabilities(ProtocolAnswer p) {
    return p.alternatives().stream().map(ProtocolAnswer.Alternative::probability).toList();
  }

  private static double runnerUp(ProtocolAnswer p) {
    return p.alternatives().get(1).probability();
  }

  @Test
  void adapters_changeTheAnswers() {
    ProtocolAnswer base = model.predictor().predict(NOTES.get(0), ResolvedAdapter.BASE, 5);
    ProtocolAnswer tuned = model.predictor().predict(NOTES.get(0), adapter("c@1", 3), 5);

    assertThat(tuned.alternatives().get(0).probability())
        .isNotEqualTo(base.alternatives().get(0).probability());
  }

  @Test
  void fullQueue_refusesAtOnce() {
    try (PredictionQueue queue =
        PredictionQueue.create(
            model.predictor(), new PredictionQueue.Settings(1, 1, 1, Duration.ZERO))) {
      assertThatThrownBy(
              () -> {
                for (int i = 0; i < 200; i++) {
                  queue.submit(NOTES.get(0), ResolvedAdapter.BASE, 3);
                }
              })
          .isInstanceOf(PredictionQueue.QueueFullException.class);
    }
  }

  @Test
  void cancelledCaller_isDroppedWithoutRunningTheModel() throws Exception {
    try (PredictionQueue queue =
        PredictionQueue.create(
            model.predictor(), new PredictionQueue.Settings(1, 8, 4, Duration.ofMillis(300)))) {
      AtomicBoolean gone = new AtomicBoolean();
      CompletableFuture<ProtocolAnswer> result =
          queue.submit(NOTES.get(1), ResolvedAdapter.BASE, 3, gone::get);
      gone.set(true);

      // CompletableFuture.get rethrows a CancellationException cause as itself.
      assertThatThrownBy(() -> result.get(30, TimeUnit.SECONDS))
          .isInstanceOf(CancellationException.class)
          .hasMessage("caller went away");
      assertThat(queue.depth()).isZero();
    }
  }

  @Test
  void aSlowAnswer_runsOnAnAnswerThread_andDoesNotHoldUpTheNextPrediction() throws Exception {
    try (PredictionQueue queue =
        PredictionQueue.create(
            model.predictor(), new PredictionQueue.Settings(1, 8, 1, Duration.ZERO, 2))) {
      CountDownLatch chained = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      AtomicReference<String> answeredOn = new AtomicReference<>();
      // The inference thread waits (in the cancellation check) until the slow step is chained, so
      // the step runs where the queue completes the future, not on this thread.
      CompletableFuture<ProtocolAnswer> first =
          queue.submit(NOTES.get(0), ResolvedAdapter.BASE, 3, () -> !awaitQuietly(chained));
      CompletableFuture<String> slow =
          first.thenApply(
              a -> {
                answeredOn.set(Thread.currentThread().getName());
                awaitQuietly(release);
                return a.label().id();
              });
      chained.countDown();

      ProtocolAnswer second =
          queue.submit(NOTES.get(1), ResolvedAdapter.BASE, 3).get(30, TimeUnit.SECONDS);

      assertThat(second.label().id()).isNotEmpty();
      assertThat(slow).isNotDone();
      assertThat(answeredOn.get()).startsWith("protorad-answer-");
      release.countDown();
      assertThat(slow.get(30, TimeUnit.SECONDS)).isNotEmpty();
    }
  }

  private static boolean awaitQuietly(CountDownLatch latch) {
    try {
      return latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
