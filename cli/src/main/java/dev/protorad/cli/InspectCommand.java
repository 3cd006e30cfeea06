package dev.protorad.cli;

import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.checkpoint.LoadOptions;
import dev.protorad.engine.checkpoint.MemoryReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code protorad inspect CHECKPOINT}: bytes held per tensor kind and bits per parameter. */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description =
        "Load a checkpoint as the server would (quantizing an FP one) and report the bytes held"
            + " per tensor kind, bits per parameter and the base fingerprint.")
public final class InspectCommand implements Callable<Integer> {
  /** Exit code for bad input, as picocli uses for usage errors. */
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "CHECKPOINT", description = "Checkpoint directory.")
  Path checkpoint;

  @Option(
      names = "--threads",
      description = "Quantization threads (default: all processors).",
      defaultValue = "0")
  int threads;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try {
      long start = System.nanoTime();
      BaseCheckpoint base = BaseCheckpoint.load(checkpoint, LoadOptions.ofThreads(threads));
      double seconds = (System.nanoTime() - start) / 1e9;
      ModelConfig c = base.config();
      MemoryReport report = base.memoryReport();
      out.printf(
          Locale.ROOT,
          "%s: hidden %d, intermediate %d, layers %d, heads %d (kv %d), vocab %d, %s embeddings;"
              + " source %s; loaded in %.1f s%n",
          checkpoint,
          c.hiddenSize(),
          c.intermediateSize(),
          c.numHiddenLayers(),
          c.numAttentionHeads(),
          c.numKeyValueHeads(),
          c.vocabSize(),
          c.tieWordEmbeddings() ? "tied" : "untied",
          base.sourceDtype(),
          seconds);
      out.print(report.format());
      out.println("fingerprint " + base.fingerprint());
      out.flush();
      return 0;
    } catch (IOException | IllegalArgumentException e) {
      return ExitCodes.usage(spec, e.getMessage());
    }
  }
}
