package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.server.serving.PredictionStore.ReviewedNote;
import dev.protorad.training.data.DatasetLines;
import dev.protorad.training.data.DatasetValidator;
import dev.protorad.training.data.Example;
import dev.protorad.training.data.Split;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns reviewed predictions into training examples ({@code protorad dataset feedback}): each note
 * is opened with the vault that sealed it and labeled with the reviewer's corrected label, or with
 * the predicted label when the prediction was accepted. Every example goes to the train split.
 *
 * <p>The result is a dataset {@link DatasetValidator} accepts: a note reviewed more than once with
 * the same label is kept once, a note reviewed with different labels is left out altogether, and so
 * is a label the catalog no longer holds. Nothing here puts note text in a message.
 */
public final class FeedbackExport {

  /** Why a reviewed prediction is not exported. */
  public enum Skip {
    NO_RETAINED_NOTE("no retained note"),
    UNKNOWN_KEY("unknown key id"),
    NOT_AUTHENTIC("decryption failed"),
    DUPLICATE("duplicate note"),
    CONFLICTING_LABELS("conflicting labels"),
    UNKNOWN_LABEL("label not in catalog");

    private final String description;

    Skip(String description) {
      this.description = description;
    }

    /** How the count is labeled in reports. */
    public String description() {
      return description;
    }
  }

  private final Catalog catalog;
  private final Optional<NoteVault> vault;

  private FeedbackExport(Catalog catalog, Optional<NoteVault> vault) {
    this.catalog = catalog;
    this.vault = vault;
  }

  /** An export checking labels against {@code catalog} and opening notes with {@code vault}. */
  public static FeedbackExport of(Catalog catalog, Optional<NoteVault> vault) {
    return new FeedbackExport(requireNonNull(catalog, "catalog"), requireNonNull(vault, "vault"));
  }

  /** Opens, labels and de-duplicates {@code reviewed}, keeping its order. */
  public Result export(List<ReviewedNote> reviewed) {
    requireNonNull(reviewed, "reviewed");
    Map<Skip, Integer> skipped = new EnumMap<>(Skip.class);
    for (Skip s : Skip.values()) {
      skipped.put(s, 0);
    }
    Map<String, List<Candidate>> byNote = new LinkedHashMap<>();
    for (ReviewedNote r : reviewed) {
      Optional<Candidate> c = opened(r, skipped);
      if (c.isPresent()) {
        String key = DatasetValidator.normalize(c.get().example().note());
        byNote.computeIfAbsent(key, k -> new ArrayList<>()).add(c.get());
      }
    }
    List<Candidate> kept = new ArrayList<>();
    for (List<Candidate> same : byNote.values()) {
      if (same.stream().map(c -> c.example().label()).distinct().count() > 1) {
        skipped.merge(Skip.CONFLICTING_LABELS, same.size(), Integer::sum);
        continue;
      }
      kept.add(same.get(0));
      skipped.merge(Skip.DUPLICATE, same.size() - 1, Integer::sum);
    }
    int corrections = (int) kept.stream().filter(Candidate::corrected).count();
    return new Result(
        kept.stream().map(Candidate::example).toList(),
        reviewed.size(),
        corrections,
        kept.size() - corrections,
        skipped);
  }

  private Optional<Candidate> opened(ReviewedNote r, Map<Skip, Integer> skipped) {
    StoredPrediction p = r.prediction();
    StoredPrediction.Review review = p.review().orElseThrow();
    String label = review.accepted() ? p.labelId() : review.correctedLabelId();
    Skip problem;
    try {
      if (r.note().isEmpty()) {
        problem = Skip.NO_RETAINED_NOTE;
      } else {
        String note = open(p.predictionId(), r.note().get());
        if (catalog.contains(label)) {
          return Optional.of(new Candidate(new Example(note.strip(), label), !review.accepted()));
        }
        problem = Skip.UNKNOWN_LABEL;
      }
    } catch (NoteVault.OpenException e) {
      problem =
          e.reason() == NoteVault.OpenException.Reason.UNKNOWN_KEY
              ? Skip.UNKNOWN_KEY
              : Skip.NOT_AUTHENTIC;
    }
    skipped.merge(problem, 1, Integer::sum);
    return Optional.empty();
  }

  private String open(String predictionId, SealedNote sealed) throws NoteVault.OpenException {
    if (vault.isEmpty()) {
      throw NoteVault.OpenException.unknownKey(predictionId, sealed.keyId());
    }
    return vault.get().open(predictionId, sealed);
  }

  private record Candidate(Example example, boolean corrected) {}

  /**
   * What an export produced.
   *
   * @param examples the examples, in review order
   * @param reviewed reviewed predictions considered
   * @param corrections examples whose label a reviewer corrected
   * @param accepted examples whose predicted label a reviewer accepted
   * @param skipped reviewed predictions left out, by reason
   */
  public record Result(
      List<Example> examples,
      int reviewed,
      int corrections,
      int accepted,
      Map<Skip, Integer> skipped) {

    public Result {
      examples = List.copyOf(examples);
      skipped = Map.copyOf(skipped);
    }

    /** Reviewed predictions whose note could not be opened (unknown key or not authentic). */
    public int unreadable() {
      return skipped.getOrDefault(Skip.UNKNOWN_KEY, 0)
          + skipped.getOrDefault(Skip.NOT_AUTHENTIC, 0);
    }

    /**
     * Writes the examples as JSONL in the format {@code dataset synth} writes, to a new file
     * readable by its owner only (it holds note text).
     *
     * @throws UncheckedIOException when {@code file} exists or cannot be written
     */
    public void writeJsonl(Path file) {
      requireNonNull(file, "file");
      try {
        Files.createFile(
            file,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (BufferedWriter w =
            Files.newBufferedWriter(
                file, StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING)) {
          for (Example e : examples) {
            DatasetLines.write(w, e, Split.TRAIN);
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("writing " + file, e);
      }
    }
  }
}
