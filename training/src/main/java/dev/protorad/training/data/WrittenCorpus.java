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
 * catalog protocol, lines {@code {"note", "label", "style"}}), read as one dataset.
 */
public final class WrittenCorpus {

  /** Where the corpus lives in the repository. */
  public static final Path DEFAULT_DIR = Path.of("data", "corpus", "notes");

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
    requireNonNull(examples, "examples");
    Map<Split, Integer> counts = new EnumMap<>(Split.class);
    for (Split s : Split.values()) {
      counts.put(s, 0);
    }
    try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
      for (Example e : examples) {
        Split s = Split.byHash(e.note());
        DatasetLines.write(w, e, s);
        counts.merge(s, 1, Integer::sum);
      }
    }
    return counts;
  }
}
