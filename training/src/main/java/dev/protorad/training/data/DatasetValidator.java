package dev.protorad.training.data;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.protorad.clinical.catalog.Catalog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;

/**
 * Validates a JSONL training dataset: one {@code {"note": …, "label": <catalog id>, "split":
 * "train|validation|test"}} object per line ({@code split} optional). Blank lines are ignored.
 *
 * <p>Every problem is reported with its 1-based line number and an {@link ErrorKind}; messages
 * never contain note text. Duplicates and conflicts compare notes after Unicode NFC normalization,
 * trimming, lower-casing and collapsing whitespace. In skip mode the first copy of a duplicate is
 * kept and every line of a conflicting note is dropped.
 */
public final class DatasetValidator {

  /** Largest note accepted, in characters after trimming. */
  public static final int MAX_NOTE_CHARS = 20_000;

  private static final ObjectMapper JSON =
      JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();
  private static final Pattern SPACES = Pattern.compile("\\s+");
  private static final Pattern SAFE_LABEL = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  private final Catalog catalog;

  private DatasetValidator(Catalog catalog) {
    this.catalog = catalog;
  }

  /** A validator that checks labels against {@code catalog}. */
  public static DatasetValidator of(Catalog catalog) {
    return new DatasetValidator(requireNonNull(catalog, "catalog"));
  }

  /**
   * Validates a JSONL file.
   *
   * @param file the dataset
   * @param skipInvalid when true, invalid lines are left out and reported as skipped; when false,
   *     any error leaves no usable records
   */
  public ValidatedDataset validate(Path file, boolean skipInvalid) {
    requireNonNull(file, "file");
    try {
      return validate(Files.readAllBytes(file), skipInvalid);
    } catch (IOException e) {
      throw new UncheckedIOException("reading dataset " + file, e);
    }
  }

  /** Validates JSONL bytes; see {@link #validate(Path, boolean)}. */
  public ValidatedDataset validate(byte[] jsonl, boolean skipInvalid) {
    requireNonNull(jsonl, "jsonl");
    List<ValidationError> errors = new ArrayList<>();
    List<DatasetRecord> candidates = new ArrayList<>();
    int lines = 0;
    int start = 0;
    int lineNo = 0;
    while (start <= jsonl.length) {
      int end = indexOf(jsonl, (byte) '\n', start);
      lineNo++;
      int len = end - start;
      if (len > 0 && jsonl[end - 1] == '\r') {
        len--;
      }
      if (!blank(jsonl, start, len)) {
        lines++;
        checkLine(jsonl, start, len, lineNo, errors).ifPresent(candidates::add);
      }
      start = end + 1;
    }
    Set<Integer> rejected = checkDuplicates(candidates, errors);
    errors.sort(Comparator.comparingInt(ValidationError::line));
    List<DatasetRecord> valid =
        candidates.stream().filter(r -> !rejected.contains(r.line())).toList();
    List<DatasetRecord> usable = skipInvalid || errors.isEmpty() ? valid : List.of();
    int skipped = skipInvalid ? lines - valid.size() : 0;
    return new ValidatedDataset(
        new ValidationReport(lines, valid.size(), errors, skipInvalid, skipped), usable);
  }

  private Optional<DatasetRecord> checkLine(
      byte[] bytes, int start, int len, int line, List<ValidationError> errors) {
    String text;
    try {
      text = decodeUtf8(bytes, start, len);
    } catch (CharacterCodingException e) {
      errors.add(new ValidationError(line, ErrorKind.INVALID_UTF8, "line is not valid UTF-8"));
      return Optional.empty();
    }
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      errors.add(new ValidationError(line, ErrorKind.BAD_JSON, "not valid JSON"));
      return Optional.empty();
    }
    if (node == null || !node.isObject()) {
      errors.add(new ValidationError(line, ErrorKind.BAD_JSON, "expected a JSON object"));
      return Optional.empty();
    }
    return checkFields(node, line, errors);
  }

  private Optional<DatasetRecord> checkFields(
      JsonNode node, int line, List<ValidationError> errors) {
    int before = errors.size();
    String note = stringField(node, "note", line, errors);
    String label = stringField(node, "label", line, errors);
    Optional<Split> split = split(node, line, errors);
    if (label != null && !catalog.contains(label)) {
      errors.add(
          new ValidationError(
              line,
              ErrorKind.UNKNOWN_LABEL,
              "label "
                  + (SAFE_LABEL.matcher(label).matches() ? "'" + label + "'" : "(not shown)")
                  + " is not a catalog protocol id"));
    }
    if (note != null) {
      note = note.strip();
      if (note.isEmpty()) {
        errors.add(new ValidationError(line, ErrorKind.EMPTY_NOTE, "note is empty after trimming"));
      } else if (note.length() > MAX_NOTE_CHARS) {
        errors.add(
            new ValidationError(
                line,
                ErrorKind.OVERSIZED_NOTE,
                "note has " + note.length() + " characters (expected: <= " + MAX_NOTE_CHARS + ")"));
      }
    }
    if (note == null || label == null || errors.size() > before) {
      return Optional.empty(); // a missing note or label has added its error
    }
    return Optional.of(new DatasetRecord(line, new Example(note, label), split));
  }

  private static @Nullable String stringField(
      JsonNode node, String field, int line, List<ValidationError> errors) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      errors.add(
          new ValidationError(line, ErrorKind.MISSING_FIELD, "missing field '" + field + "'"));
      return null;
    }
    if (!v.isTextual()) {
      errors.add(
          new ValidationError(
              line,
              ErrorKind.WRONG_TYPE,
              "field '" + field + "' is " + v.getNodeType() + " (expected: string)"));
      return null;
    }
    return v.textValue();
  }

  private static Optional<Split> split(JsonNode node, int line, List<ValidationError> errors) {
    JsonNode v = node.get("split");
    if (v == null || v.isNull()) {
      return Optional.empty();
    }
    Optional<Split> split = v.isTextual() ? Split.fromJson(v.textValue()) : Optional.empty();
    if (split.isEmpty()) {
      errors.add(
          new ValidationError(
              line,
              ErrorKind.INVALID_SPLIT,
              "field 'split' is not a split name (expected: train, validation or test)"));
    }
    return split;
  }

  private static Set<Integer> checkDuplicates(
      List<DatasetRecord> records, List<ValidationError> errors) {
    Map<String, DatasetRecord> first = new HashMap<>();
    Set<Integer> rejected = new HashSet<>();
    Set<Integer> conflictReported = new HashSet<>();
    for (DatasetRecord r : records) {
      String key = normalize(r.example().note());
      DatasetRecord earlier = first.putIfAbsent(key, r);
      if (earlier == null) {
        continue;
      }
      rejected.add(r.line());
      if (earlier.example().label().equals(r.example().label())) {
        errors.add(
            new ValidationError(
                r.line(), ErrorKind.DUPLICATE, "duplicate of line " + earlier.line()));
        continue;
      }
      rejected.add(earlier.line());
      errors.add(conflict(r.line(), earlier.line()));
      if (conflictReported.add(earlier.line())) {
        errors.add(conflict(earlier.line(), r.line()));
      }
    }
    return rejected;
  }

  private static ValidationError conflict(int line, int other) {
    return new ValidationError(
        line,
        ErrorKind.CONFLICTING_LABEL,
        "same note as line " + other + " with a different label");
  }

  /** The normalization used for duplicate and conflict detection. */
  public static String normalize(String note) {
    String nfc = Normalizer.normalize(note, Normalizer.Form.NFC);
    return SPACES.matcher(nfc.strip().toLowerCase(Locale.ROOT)).replaceAll(" ");
  }

  private static String decodeUtf8(byte[] bytes, int start, int len)
      throws CharacterCodingException {
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    return decoder.decode(ByteBuffer.wrap(bytes, start, len)).toString();
  }

  private static int indexOf(byte[] bytes, byte b, int from) {
    return IntStream.range(from, bytes.length)
        .filter(i -> bytes[i] == b)
        .findFirst()
        .orElse(bytes.length);
  }

  private static boolean blank(byte[] bytes, int start, int len) {
    return IntStream.range(start, start + len).allMatch(i -> Character.isWhitespace(bytes[i]));
  }
}
