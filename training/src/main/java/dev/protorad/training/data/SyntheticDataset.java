package dev.protorad.training.data;

import static java.util.Objects.requireNonNull;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The output of {@link SyntheticNotes}: notes in generation order with their splits.
 *
 * @param notes the generated notes
 */
public record SyntheticDataset(List<GeneratedNote> notes) {

  /** Copies the list. */
  public SyntheticDataset {
    notes = List.copyOf(requireNonNull(notes, "notes"));
  }

  /** The examples of one split, in generation order. */
  public List<Example> examples(Split split) {
    requireNonNull(split, "split");
    return notes.stream().filter(n -> n.split() == split).map(GeneratedNote::example).toList();
  }

  /** Examples with their splits, in generation order. */
  public List<SplitExample> splitExamples() {
    return notes.stream().map(n -> new SplitExample(n.example(), n.split())).toList();
  }

  /** Number of notes per split. */
  public Map<Split, Long> countsBySplit() {
    Map<Split, Long> out = new EnumMap<>(Split.class);
    for (Split s : Split.values()) {
      out.put(s, notes.stream().filter(n -> n.split() == s).count());
    }
    return out;
  }

  /** Number of notes per style. */
  public Map<NoteStyle, Long> countsByStyle() {
    return counts(GeneratedNote::style, new EnumMap<>(NoteStyle.class));
  }

  /** Number of notes per scenario. */
  public Map<Scenario, Long> countsByScenario() {
    return counts(GeneratedNote::scenario, new EnumMap<>(Scenario.class));
  }

  /** Number of notes per label, sorted by label id. */
  public Map<String, Long> countsByLabel() {
    return counts(n -> n.example().label(), new TreeMap<>());
  }

  /** Share of notes matching {@code test}, in [0, 1]. */
  public double share(Predicate<GeneratedNote> test) {
    return notes.isEmpty() ? 0 : (double) notes.stream().filter(test).count() / notes.size();
  }

  /** Writes JSONL lines {@code {"note": …, "label": …, "split": …}} in generation order. */
  public void writeJsonl(Path file) {
    requireNonNull(file, "file");
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      for (GeneratedNote n : notes) {
        DatasetLines.write(w, n.example(), n.split());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("writing " + file, e);
    }
  }

  private <K> Map<K, Long> counts(Function<GeneratedNote, K> key, Map<K, Long> into) {
    for (GeneratedNote n : notes) {
      into.merge(key.apply(n), 1L, Long::sum);
    }
    return into;
  }
}
