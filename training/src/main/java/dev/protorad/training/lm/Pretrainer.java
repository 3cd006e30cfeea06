package dev.protorad.training.lm;

import static java.util.Objects.requireNonNull;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.model.EngineSettings;
import dev.protorad.engine.safetensors.DType;
import dev.protorad.engine.safetensors.HalfFloats;
import dev.protorad.engine.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Pretrains a small Llama causal LM from scratch (every weight trainable, FP32) on tokenized
 * documents, and writes it in Hugging Face layout with F16 weights.
 *
 * <p>The softmax runs over the tokens the corpus uses rather than all 32,000: on a CPU the full LM
 * head would cost most of each step, and tokens that never occur would only be pushed down.
 * Fine-tuning and serving use the full vocabulary.
 */
public final class Pretrainer {

  /** Progress after an optimizer step. */
  public record Progress(
      int step, int totalSteps, double loss, double learningRate, double tokensPerSecond) {}

  /** Receives progress; called on the training thread. */
  public interface Listener {
    /** One optimizer step is done. */
    void onStep(Progress progress);
  }

  /** What a run produced. */
  public record Result(
      double firstLoss, double finalLoss, int steps, long parameters, int vocabularyUsed) {}

  private final PretrainOptions options;

  private Pretrainer(PretrainOptions options) {
    this.options = options;
  }

  /** A pretrainer for {@code options}. */
  public static Pretrainer of(PretrainOptions options) {
    return new Pretrainer(requireNonNull(options, "options"));
  }

  /**
   * Trains on {@code documents} (token ids, BOS first) and writes {@code config.json}, {@code
   * model.safetensors} (F16, tied embeddings) and the tokenizer files into {@code outDir}.
   */
  public Result run(List<int[]> documents, Path tokenizerJson, Path outDir, Listener listener)
      throws IOException {
    requireNonNull(documents, "documents");
    requireNonNull(tokenizerJson, "tokenizerJson");
    requireNonNull(outDir, "outDir");
    requireNonNull(listener, "listener");
    if (documents.isEmpty()) {
      throw new IllegalArgumentException("documents: empty (expected: at least one)");
    }
    GradMode.off();
    List<int[]> docs = cut(documents);
    long[] vocab = vocabulary(docs);
    Map<Integer, Integer> index = new TreeMap<>();
    for (int i = 0; i < vocab.length; i++) {
      index.put((int) vocab[i], i);
    }
    EngineSettings.applyDefaults();
    try (NDManager manager = NDManager.newBaseManager();
        TrainableLlama model =
            TrainableLlama.fromScratch(options.model(), options.seed(), manager);
        AdamW adamW = AdamW.of(model.trainable(), options.weightDecay(), manager)) {
      Result r = train(model, adamW, docs, vocab, index, listener, manager);
      write(model, tokenizerJson, outDir);
      return new Result(
          r.firstLoss(), r.finalLoss(), r.steps(), model.totalParameters(), vocab.length);
    }
  }

  private Result train(
      TrainableLlama model,
      AdamW adamW,
      List<int[]> docs,
      long[] vocab,
      Map<Integer, Integer> index,
      Listener listener,
      NDManager manager) {
    LearningRateSchedule schedule =
        new LearningRateSchedule(
            options.learningRate(), options.warmupSteps(), options.steps(), 0.1);
    SplittableRandom random = new SplittableRandom(options.seed());
    int[] order = shuffled(docs.size(), random);
    int cursor = 0;
    double first = Double.NaN;
    double ema = Double.NaN;
    long start = System.nanoTime();
    long tokens = 0;
    for (int step = 0; step < options.steps(); step++) {
      List<int[]> batch = new ArrayList<>(options.batchSize());
      for (int i = 0; i < options.batchSize(); i++) {
        if (cursor == order.length) {
          order = shuffled(docs.size(), random);
          cursor = 0;
        }
        batch.add(docs.get(order[cursor++]));
      }
      Batch b = Batch.causal(batch, index);
      double loss = backward(model, b, vocab, manager);
      double lr = schedule.at(step);
      adamW.step(lr, options.maxGradNorm());
      tokens += b.positions().length;
      first = Double.isNaN(first) ? loss : first;
      ema = Double.isNaN(ema) ? loss : 0.9 * ema + 0.1 * loss;
      double seconds = (System.nanoTime() - start) / 1e9;
      listener.onStep(new Progress(step + 1, options.steps(), loss, lr, tokens / seconds));
    }
    return new Result(first, ema, options.steps(), 0, vocab.length);
  }

  private static double backward(TrainableLlama model, Batch b, long[] vocab, NDManager parent) {
    try (NDManager scope = parent.newSubManager();
        NDScope arrays = new NDScope();
        GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      arrays.suppressNotUsedWarning();
      NDArray loss =
          model.loss(b.tokens(), b.positions(), b.targets(), b.lengths(), vocab, false, scope);
      collector.backward(loss);
      return loss.getFloat();
    }
  }

  private List<int[]> cut(List<int[]> documents) {
    List<int[]> out = new ArrayList<>(documents.size());
    for (int[] d : documents) {
      if (d.length >= 2) {
        out.add(d.length > options.maxTokens() ? Arrays.copyOf(d, options.maxTokens()) : d);
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("documents: none with two or more tokens");
    }
    return out;
  }

  private static long[] vocabulary(List<int[]> docs) {
    return docs.stream().flatMapToInt(Arrays::stream).distinct().sorted().asLongStream().toArray();
  }

  private static int[] shuffled(int n, SplittableRandom random) {
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }

  private void write(TrainableLlama model, Path tokenizerJson, Path outDir) throws IOException {
    Files.createDirectories(outDir);
    ModelConfig c = options.model();
    SafetensorsWriter w = SafetensorsWriter.create().metadata("format", "pt");
    for (Map.Entry<String, float[]> e : new TreeMap<>(model.weights()).entrySet()) {
      String name = e.getKey();
      float[] values = e.getValue();
      if (name.endsWith("layernorm.weight") || name.equals("model.norm.weight")) {
        w.addFloats(name, DType.F32, new long[] {values.length}, values);
      } else {
        w.addF16(name, shape(name, c), HalfFloats.floatToF16(values));
      }
    }
    w.write(outDir.resolve("model.safetensors"));
    var json = c.toJsonNode();
    json.put("torch_dtype", "float16");
    Files.writeString(outDir.resolve("config.json"), ModelConfig.toJson(json));
    Files.copy(
        tokenizerJson,
        outDir.resolve(BaseCheckpoint.TOKENIZER_JSON),
        StandardCopyOption.REPLACE_EXISTING);
    Path sibling = tokenizerJson.resolveSibling("tokenizer_config.json");
    if (Files.exists(sibling)) {
      Files.copy(
          sibling, outDir.resolve("tokenizer_config.json"), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static long[] shape(String name, ModelConfig c) {
    if (name.equals("model.embed_tokens.weight")) {
      return new long[] {c.vocabSize(), c.hiddenSize()};
    }
    for (var p : dev.protorad.engine.checkpoint.Projection.values()) {
      if (name.endsWith("." + p.moduleName() + ".weight")) {
        return new long[] {p.outFeatures(c), p.inFeatures(c)};
      }
    }
    throw new IllegalStateException("unexpected tensor " + name);
  }
}
