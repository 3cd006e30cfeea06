package dev.protorad.cli;

import dev.protorad.engine.model.BaseModel;
import dev.protorad.engine.model.LlamaModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * The {@code --model DIR} option of the commands that run the model in this process, and the one
 * way they load that base ({@link BaseModel}).
 */
final class BaseModelOption {

  @Option(names = "--model", required = true, paramLabel = "DIR", description = "Base checkpoint.")
  Path dir;

  /**
   * Loads the base; on failure prints {@code protorad COMMAND: --model: REASON} to the command's
   * error stream and returns null (the command then exits with {@link ExitCodes#USAGE}).
   */
  @Nullable BaseModel load(CommandSpec spec) {
    return load(spec, UnaryOperator.identity());
  }

  /** {@link #load(CommandSpec)}, with {@code configure} adjusting the model's builder. */
  @Nullable BaseModel load(CommandSpec spec, UnaryOperator<LlamaModel.Builder> configure) {
    try {
      return BaseModel.load(dir, configure);
    } catch (IOException e) {
      ExitCodes.usage(spec, "--model: " + e.getMessage());
      return null;
    }
  }
}
