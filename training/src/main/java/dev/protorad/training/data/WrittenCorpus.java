package dev.protorad.training.data;

import static java.util.Objects.requireNonNull;

import dev.protorad.clinical.catalog.Catalog;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The training corpus the team writes by hand ({@code data/corpus/notes}: one JSONL file per
 * catalog protocol, lines {@code {"note", "label", "style"}}), read as one dataset, and the written
 * calibration set beside it ({@code data/calibration/notes}, the same layout), whose notes are
 * always in the validation split: no adapter and no lexical model trains on them.
 */
public final class WrittenCorpus {

  /** Where the corpus lives in the repository. */
  public static final Path DEFAULT_DIR = Path.of("data", "corpus", "notes");

  /** Where the written calibration set lives in the repository. */
  public static final Path CALIBRATION_DIR = Path.of("data", "calibration", "notes");

  private WrittenCorpus() {}

  /** The corpus files of {@code dir}, in name order. */
  public static List<Path> files(Path dir) {
    requireNonNull(dir, "dir");
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".jsonl")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("listing " + dir, e);
    }
  }

  /** Every file of {@code dir} validated as one dataset (line numbers count across files). */
  public static ValidatedDataset read(Path dir, Catalog catalog) {
    requireNonNull(catalog, "catalog");
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (Path f : files(dir)) {
      try {
        byte[] bytes = Files.readAllBytes(f);
        all.write(bytes);
        if (bytes.length > 0 && bytes[bytes.length - 1] != '\n') {
          all.write('\n');
        }
      } catch (IOException e) {
        throw new UncheckedIOException("reading " + f, e);
      }
    }
    return DatasetValidator.of(catalog).validate(all.toByteArray(), false);
  }

  /**
   * Writes the examples as one dataset, each with its split ({@link Split#byHash}).
   *
   * @return how many lines went to each split
   */
  public static Map<Split, Integer> write(List<Example> examples, Path out) throws IOException {
    return write(examples, List.of(), out);
  }

  /**
   * Writes the corpus examples, each with its split ({@link Split#byHash}), then the calibration
   * examples, each in {@link Split#VALIDATION}.
   *
   * @return how many lines went to each split
   */
  public static Map<Split, Integer> write(
      List<Example> examples, List<Example> calibration, Path out) throws IOException {
    requireNonNull(examples, "examples");
    requireNonNull(calibration, "calibration");
    Map<Split, Integer> counts = new EnumMap<>(Split.class);
    for (Split s : Split.values()) {
      counts.put(s, 0);
    }
    try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
      for (Example e : examples) {
        writeLine(w, e, Split.byHash(e.note()), counts);
      }
      for (Example e : calibration) {
        writeLine(w, e, Split.VALIDATION, counts);
      }
    }
    return counts;
  }

  private static void writeLine(Writer w, Example e, Split s, Map<Split, Integer> counts)
      throws IOException {
    DatasetLines.write(w, e, s);
    counts.merge(s, 1, Integer::sum);
  }
}
