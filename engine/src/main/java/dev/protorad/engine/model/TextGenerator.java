package dev.protorad.engine.model;

import static java.util.Objects.requireNonNull;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * Greedy free-text generation with the KV cache, as the original proof of concept produced labels
 * (kept for comparison with constrained scoring, which always yields a catalog label).
 *
 * <p>One prefill of the prompt, then one token per step: each step writes one slot of the
 * preallocated cache and reads all earlier ones. Thread-safe.
 */
public final class TextGenerator {

  private final LlamaModel model;
  private final LlamaTokenizer tokenizer;

  private TextGenerator(LlamaModel model, LlamaTokenizer tokenizer) {
    this.model = model;
    this.tokenizer = tokenizer;
  }

  /** A generator over {@code model}. */
  public static TextGenerator create(LlamaModel model, LlamaTokenizer tokenizer) {
    return new TextGenerator(
        requireNonNull(model, "model"), requireNonNull(tokenizer, "tokenizer"));
  }

  /**
   * Greedily continues {@code prompt} until EOS or {@code maxNewTokens}.
   *
   * @param adapter the adapter to run with, or null for the bare base
   */
  public Generation generate(String prompt, @Nullable AdapterHandle adapter, int maxNewTokens) {
    requireNonNull(prompt, "prompt");
    int[] ids = tokenizer.encode(prompt);
    int[] out = generateTokens(ids, adapter, maxNewTokens, true);
    boolean eos = out.length > 0 && out[out.length - 1] == tokenizer.eosId();
    return new Generation(tokenizer.decode(out), out, ids.length, eos);
  }

  /**
   * The greedy continuation of {@code prompt}; with {@code useCache} false every step recomputes
   * the whole sequence (the reference the cached path is tested against).
   */
  int[] generateTokens(
      int[] prompt, @Nullable AdapterHandle adapter, int maxNewTokens, boolean useCache) {
    if (maxNewTokens < 1) {
      throw new IllegalArgumentException("maxNewTokens: " + maxNewTokens + " (expected: >= 1)");
    }
    int limit = model.config().maxPositionEmbeddings();
    int steps = Math.min(maxNewTokens, limit - prompt.length);
    if (steps < 1) {
      throw new IllegalArgumentException(
          "prompt: " + prompt.length + " tokens (expected: < " + limit + ")");
    }
    int eos = tokenizer.eosId();
    return useCache ? cached(prompt, adapter, steps, eos) : recomputed(prompt, adapter, steps, eos);
  }

  private int[] cached(int[] prompt, @Nullable AdapterHandle adapter, int steps, int eos) {
    int[] out = new int[steps];
    int n = 0;
    LoraBatch lora = LoraBatch.uniform(adapter, 1);
    try (NDManager request = model.newRequestManager()) {
      KvCache cache = KvCache.allocate(model.config(), 1, prompt.length + steps, request, null);
      int[] step = prompt;
      while (n < steps) {
        int next;
        try (NDManager scratch = request.newSubManager()) {
          next = argmax(lastLogits(StepInput.of(step, cache.length()), cache, lora, scratch));
        }
        out[n++] = next;
        if (next == eos) {
          break;
        }
        step = new int[] {next};
      }
    }
    return Arrays.copyOf(out, n);
  }

  private int[] recomputed(int[] prompt, @Nullable AdapterHandle adapter, int steps, int eos) {
    int[] seq = Arrays.copyOf(prompt, prompt.length + steps);
    int n = 0;
    LoraBatch lora = LoraBatch.uniform(adapter, 1);
    while (n < steps) {
      int[] sofar = Arrays.copyOf(seq, prompt.length + n);
      int next;
      try (NDManager request = model.newRequestManager()) {
        KvCache cache = KvCache.allocate(model.config(), 1, sofar.length, request, null);
        next = argmax(lastLogits(StepInput.of(sofar, 0), cache, lora, request));
      }
      seq[prompt.length + n++] = next;
      if (next == eos) {
        break;
      }
    }
    return Arrays.copyOfRange(seq, prompt.length, prompt.length + n);
  }

  private float[] lastLogits(StepInput in, KvCache cache, LoraBatch lora, NDManager scratch) {
    NDArray h = model.hidden(in, cache, lora, scratch);
    return model.logits(model.lastHidden(h, in)).toFloatArray();
  }

  private static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }
}
