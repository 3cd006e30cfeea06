package dev.protorad.cli;

import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.checkpoint.LoadOptions;
import dev.protorad.engine.checkpoint.MemoryReport;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code protorad quantize --model DIR --out DIR}: writes a pre-quantized bitsandbytes checkpoint.
 */
@Command(
    name = "quantize",
    mixinStandardHelpOptions = true,
    description =
        "Quantize a Hugging Face Llama checkpoint to NF4 with double quantization and write it in"
            + " the bitsandbytes 4-bit layout (safetensors).")
public final class QuantizeCommand implements Callable<Integer> {
  /** Exit code for bad input, as picocli uses for usage errors. */
  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, description = "Checkpoint directory to read.")
  Path model;

  @Option(names = "--out", required = true, description = "Directory to write.")
  Path out;

  @Option(
      names = "--threads",
      description = "Quantization threads (default: all processors).",
      defaultValue = "0")
  int threads;

  @Override
  public Integer call() {
    try {
      long start = System.nanoTime();
      LoadOptions options = LoadOptions.ofThreads(threads);
      BaseCheckpoint base = BaseCheckpoint.load(model, options);
      double loadSeconds = (System.nanoTime() - start) / 1e9;
      base.writeQuantized(out);
      MemoryReport report = base.memoryReport();
      spec.commandLine()
          .getOut()
          .printf(
              Locale.ROOT,
              "wrote %s: %d NF4 parameters in %d bytes (%.4f bits/parameter); loaded in %.1f s,"
                  + " total %.1f s; fingerprint %s%n",
              out,
              report.nf4Parameters(),
              report.nf4Bytes(),
              report.nf4BitsPerParameter(),
              loadSeconds,
              (System.nanoTime() - start) / 1e9,
              base.fingerprint());
      return 0;
    } catch (IOException | IllegalArgumentException e) {
      return ExitCodes.usage(spec, e.getMessage());
    }
  }
}
