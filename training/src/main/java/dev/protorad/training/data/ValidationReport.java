package dev.protorad.training.data;

import static java.util.Objects.requireNonNull;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What {@link DatasetValidator} found: errors by line, counts per kind, and what was skipped. Holds
 * no note text.
 *
 * @param lines non-blank lines read
 * @param validRecords records accepted
 * @param errors every problem, ordered by line
 * @param skipInvalid whether invalid lines were skipped rather than refusing the dataset
 * @param skippedLines lines left out (0 unless {@code skipInvalid})
 */
public record ValidationReport(
    int lines,
    int validRecords,
    List<ValidationError> errors,
    boolean skipInvalid,
    int skippedLines) {

  /** Copies the errors. */
  public ValidationReport {
    errors = List.copyOf(requireNonNull(errors, "errors"));
  }

  /** Whether any problem was found. */
  public boolean hasErrors() {
    return !errors.isEmpty();
  }

  /** Number of errors per kind, in {@link ErrorKind} order, kinds without errors left out. */
  public Map<ErrorKind, Integer> counts() {
    Map<ErrorKind, Integer> out = new EnumMap<>(ErrorKind.class);
    for (ValidationError e : errors) {
      out.merge(e.kind(), 1, Integer::sum);
    }
    return out;
  }

  /** The errors of one kind. */
  public List<ValidationError> errors(ErrorKind kind) {
    return errors.stream().filter(e -> e.kind() == kind).toList();
  }

  /** A human-readable summary listing at most {@code maxErrors} errors. */
  public String render(int maxErrors) {
    StringBuilder sb = new StringBuilder();
    sb.append("lines: ").append(lines).append(", valid: ").append(validRecords);
    sb.append(", errors: ").append(errors.size());
    if (skipInvalid) {
      sb.append(", skipped lines: ").append(skippedLines);
    }
    sb.append('\n');
    if (!errors.isEmpty()) {
      sb.append("by kind: ")
          .append(
              counts().entrySet().stream()
                  .map(e -> e.getKey() + "=" + e.getValue())
                  .collect(Collectors.joining(", ")))
          .append('\n');
    }
    errors.stream()
        .limit(Math.max(0, maxErrors))
        .forEach(
            e ->
                sb.append("line ")
                    .append(e.line())
                    .append(": ")
                    .append(e.kind())
                    .append(": ")
                    .append(e.message())
                    .append('\n'));
    if (errors.size() > maxErrors) {
      sb.append("... and ").append(errors.size() - maxErrors).append(" more\n");
    }
    return sb.toString();
  }
}
