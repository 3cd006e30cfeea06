package dev.protorad.cli;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.clinical.catalog.CatalogException;
import dev.protorad.server.config.ConfigException;
import dev.protorad.server.config.ConfigLoader;
import dev.protorad.server.config.ServerConfig;
import dev.protorad.server.config.ServingConfig;
import dev.protorad.server.serving.FeedbackExport;
import dev.protorad.server.serving.NoteKeyFile;
import dev.protorad.server.serving.NoteVault;
import dev.protorad.server.serving.PredictionStore;
import dev.protorad.server.serving.PredictionStore.PredictionStoreException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code protorad dataset feedback}: reviewed predictions as a training dataset. Reads the
 * prediction database and the note key file directly, as the server configured them, so it runs on
 * the server host; it writes note text only into the new output file.
 */
@Command(
    name = "feedback",
    mixinStandardHelpOptions = true,
    description = {
      "Export reviewed predictions as a JSONL training dataset (split train): corrected"
          + " predictions with the reviewer's label; with --include-accepted also accepted ones,"
          + " with the predicted label.",
      "Reads the server's prediction database and note key file directly, so run it on the"
          + " server host; with the embedded H2 database stop the server first (H2 admits one"
          + " process at a time). Notes exist only for predictions made while"
          + " predictions.retain_notes was true (the default).",
      "The output holds note text (PHI) and is created readable by its owner only. Exit 1 when"
          + " some notes could not be decrypted (the others are still written)."
    })
final class FeedbackCommand implements Callable<Integer> {

  @Spec private CommandSpec spec;
  @ParentCommand private DatasetCommand parent;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description = "The server's data directory (default ./data; env PROTORAD_DATA_DIR).")
  private Path dataDir;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "The server's YAML configuration (PROTORAD_* variables override it).")
  private Path configFile;

  @Option(
      names = "--db",
      paramLabel = "JDBC_URL",
      description =
          "Prediction database (default: predictions.jdbc_url, else the H2 file under"
              + " <data-dir>/predictions); user and password env from the configuration.")
  private String jdbcUrl;

  @Option(
      names = "--key-file",
      paramLabel = "FILE",
      description =
          "Note key file (default: predictions.note_key_file, else"
              + " <data-dir>/keys/prediction-notes.keys).")
  private Path keyFile;

  @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output JSONL.")
  private Path out;

  @Option(names = "--force", description = "Overwrite --out if it exists.")
  private boolean force;

  @Option(
      names = "--since",
      paramLabel = "ISO-8601",
      description =
          "Only reviews made at or after this instant (2026-11-01T00:00:00Z) or UTC date"
              + " (2026-11-01).")
  private String since;

  @Option(
      names = "--include-accepted",
      description = "Also export accepted predictions, labeled with the predicted label.")
  private boolean includeAccepted;

  @Override
  public Integer call() {
    ServerConfig config;
    Optional<Instant> from;
    Catalog catalog;
    Optional<NoteVault> vault;
    try {
      config = config();
      from = since();
      checkPaths(config, config.serving())
          .ifPresent(
              p -> {
                throw new UsageError(p);
              });
      catalog = catalog();
      vault = keys(config);
    } catch (ConfigException e) {
      return DatasetCommand.usage(spec, "config error: " + e.getMessage());
    } catch (UsageError | IllegalArgumentException e) {
      return DatasetCommand.usage(spec, e.getMessage());
    }
    FeedbackExport.Result result = export(config, catalog, vault, from);
    return result == null ? ExitCodes.FAILURE : write(result, config.serving());
  }

  /** The reviewed predictions as a dataset; null once a store failure is printed. */
  private FeedbackExport.@Nullable Result export(
      ServerConfig config, Catalog catalog, Optional<NoteVault> vault, Optional<Instant> from) {
    ServingConfig serving = config.serving();
    String url = jdbcUrl != null ? jdbcUrl : serving.resolvedPredictionsJdbcUrl(config.dataDir());
    try (PredictionStore store =
        PredictionStore.open(
            url,
            serving.predictionsJdbcUser(),
            System.getenv().getOrDefault(serving.predictionsJdbcPasswordEnv(), ""),
            java.util.Optional.empty(),
            serving.predictionsManageSchema())) {
      return FeedbackExport.of(catalog, vault).export(store.reviewed(from, includeAccepted));
    } catch (PredictionStoreException e) {
      spec.commandLine().getErr().println("dataset feedback: " + e.getMessage() + hint(e));
      return null;
    }
  }

  private Catalog catalog() {
    try {
      return parent.catalog();
    } catch (CatalogException | UncheckedIOException e) {
      throw new UsageError("--catalog: " + e.getMessage());
    }
  }

  private Optional<NoteVault> keys(ServerConfig config) {
    try {
      return vault(config);
    } catch (IOException | IllegalArgumentException e) {
      throw new UsageError("--key-file: " + e.getMessage());
    }
  }

  private int write(FeedbackExport.Result result, ServingConfig serving) {
    try {
      if (force) {
        Files.deleteIfExists(out);
      }
      result.writeJsonl(out);
    } catch (IOException | UncheckedIOException e) {
      return DatasetCommand.usage(spec, "--out: cannot write (" + e.getMessage() + ")");
    }
    report(spec.commandLine().getOut(), result, serving);
    return result.unreadable() > 0 ? ExitCodes.FAILURE : 0;
  }

  private void report(PrintWriter w, FeedbackExport.Result result, ServingConfig serving) {
    if (!serving.retainNotes()) {
      w.println(
          "note: predictions.retain_notes is false: the server keeps no note text, so"
              + " predictions reviewed since then cannot be exported");
    }
    w.println(
        "reviewed: "
            + result.reviewed()
            + (includeAccepted ? " (corrected and accepted)" : " (corrected)"));
    w.println(
        "exported: "
            + result.examples().size()
            + " (corrections "
            + result.corrections()
            + ", accepted "
            + result.accepted()
            + ") to "
            + out);
    w.println(
        "skipped: "
            + Arrays.stream(FeedbackExport.Skip.values())
                .map(s -> s.description() + " " + result.skipped().get(s))
                .collect(Collectors.joining(", ")));
    w.flush();
  }

  private ServerConfig config() {
    ServerConfig config = ConfigLoader.withEnvironment(System.getenv()).load(configFile);
    return dataDir == null ? config : config.withDataDir(dataDir);
  }

  private Optional<Instant> since() {
    return Optional.ofNullable(since).map(FeedbackCommand::instant);
  }

  /** {@code --since} as an instant, or as a date (its start, UTC). */
  private static Instant instant(String since) {
    try {
      return Instant.parse(since);
    } catch (DateTimeParseException e) {
      try {
        return LocalDate.parse(since).atStartOfDay(ZoneOffset.UTC).toInstant();
      } catch (DateTimeParseException again) {
        throw new IllegalArgumentException(
            "--since: '"
                + since
                + "' (expected: an ISO-8601 instant such as 2026-11-01T00:00:00Z, or a date)");
      }
    }
  }

  private Optional<String> checkPaths(ServerConfig config, ServingConfig serving) {
    if (Files.exists(out) && !force) {
      return Optional.of("--out: " + out + " exists (expected: a new file, or --force)");
    }
    Path dir = out.toAbsolutePath().getParent();
    if (dir != null && !Files.isDirectory(dir)) {
      return Optional.of("--out: directory does not exist (expected: an existing directory)");
    }
    boolean defaultDb = jdbcUrl == null && serving.predictionsJdbcUrl().isEmpty();
    Path h2File = config.dataDir().resolve("predictions").resolve("predictions.mv.db");
    if (defaultDb && !Files.exists(h2File)) {
      return Optional.of(
          "no prediction database at "
              + h2File
              + " (expected: the server's --data-dir, or --db JDBC_URL)");
    }
    return Optional.empty();
  }

  private Optional<NoteVault> vault(ServerConfig config) throws IOException {
    Path file = keyFile != null ? keyFile : config.serving().resolvedNoteKeyFile(config.dataDir());
    if (Files.exists(file)) {
      return Optional.of(NoteKeyFile.load(file, new SecureRandom()));
    }
    if (config.serving().retainNotes()) {
      throw new IOException(
          file + " does not exist (expected: the server's predictions.note_key_file)");
    }
    return Optional.empty();
  }

  private static String hint(PredictionStoreException e) {
    return String.valueOf(e.getMessage()).contains("SQL state 90020")
        ? " (the H2 database is in use: stop the server, or export from a PostgreSQL store)"
        : "";
  }
}
