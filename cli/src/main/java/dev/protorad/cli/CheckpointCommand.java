package dev.protorad.cli;

import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.RandomCheckpoint;
import dev.protorad.engine.checkpoint.RandomCheckpoint.Preset;
import dev.protorad.engine.safetensors.DType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code protorad checkpoint random …}: writes checkpoints for scale and integration work. */
@Command(
    name = "checkpoint",
    mixinStandardHelpOptions = true,
    description = "Make checkpoints.",
    subcommands = CheckpointCommand.RandomCommand.class)
public final class CheckpointCommand implements Callable<Integer> {
  /** Exit code for bad input, as picocli uses for usage errors. */
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    ExitCodes.usage(spec, "missing subcommand (expected: random)");
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCodes.USAGE;
  }

  /** {@code checkpoint random}: a Hugging Face Llama layout with random weights. */
  @Command(
      name = "random",
      mixinStandardHelpOptions = true,
      description =
          "Write a Llama checkpoint with random N(0, 0.02^2) weights: config.json, tokenizer and"
              + " safetensors (F16 or BF16, optionally sharded with an index).")
  public static final class RandomCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--preset", defaultValue = "tiny", description = "tiny or llama-2-7b.")
    String preset;

    @Option(names = "--hidden", description = "hidden_size (overrides the preset).")
    Integer hidden;

    @Option(names = "--intermediate", description = "intermediate_size.")
    Integer intermediate;

    @Option(names = "--layers", description = "num_hidden_layers.")
    Integer layers;

    @Option(names = "--heads", description = "num_attention_heads.")
    Integer heads;

    @Option(names = "--kv-heads", description = "num_key_value_heads.")
    Integer kvHeads;

    @Option(names = "--vocab", description = "vocab_size.")
    Integer vocab;

    @Option(names = "--max-positions", description = "max_position_embeddings.")
    Integer maxPositions;

    @Option(names = "--tie", description = "Tie the LM head to the embeddings.")
    Boolean tie;

    @Option(names = "--dtype", defaultValue = "f16", description = "f16, bf16 or f32.")
    String dtype;

    @Option(names = "--shards", defaultValue = "1", description = "Number of safetensors files.")
    int shards;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the random weights.")
    long seed;

    @Option(names = "--tokenizer", description = "tokenizer.json to copy (default: the repo's).")
    Path tokenizer;

    @Option(names = "--out", required = true, description = "Directory to write.")
    Path out;

    @Override
    public Integer call() {
      try {
        long start = System.nanoTime();
        RandomCheckpoint.Builder b =
            RandomCheckpoint.builder(config()).dtype(dtype()).shards(shards).seed(seed);
        if (tokenizer != null) {
          b.tokenizer(tokenizer);
        }
        RandomCheckpoint maker = b.build();
        maker.write(out);
        spec.commandLine()
            .getOut()
            .printf(
                Locale.ROOT,
                "wrote %s: %d bytes of %s tensors in %d file(s), %.1f s%n",
                out,
                maker.dataBytes(),
                dtype.toUpperCase(Locale.ROOT),
                shards,
                (System.nanoTime() - start) / 1e9);
        return 0;
      } catch (IOException | IllegalArgumentException | IllegalStateException e) {
        return ExitCodes.usage(spec, e.getMessage());
      }
    }

    private ModelConfig config() {
      ModelConfig p = Preset.parse(preset).config();
      return new ModelConfig(
          or(hidden, p.hiddenSize()),
          or(intermediate, p.intermediateSize()),
          or(layers, p.numHiddenLayers()),
          or(heads, p.numAttentionHeads()),
          or(kvHeads, heads != null ? heads : p.numKeyValueHeads()),
          p.rmsNormEps(),
          p.ropeTheta(),
          or(vocab, p.vocabSize()),
          or(maxPositions, p.maxPositionEmbeddings()),
          tie != null ? tie : p.tieWordEmbeddings(),
          p.bosTokenId(),
          p.eosTokenId());
    }

    private DType dtype() {
      return switch (dtype.toLowerCase(Locale.ROOT)) {
        case "f16", "float16", "fp16" -> DType.F16;
        case "bf16", "bfloat16" -> DType.BF16;
        case "f32", "float32", "fp32" -> DType.F32;
        default ->
            throw new IllegalArgumentException(
                "--dtype: " + dtype + " (expected: f16, bf16 or f32)");
      };
    }

    private static int or(Integer value, int fallback) {
      return value != null ? value : fallback;
    }
  }
}
