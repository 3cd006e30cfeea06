package dev.protorad.training.data;

import static java.util.Objects.requireNonNull;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.clinical.catalog.Modality;
import dev.protorad.clinical.catalog.Protocol;
import dev.protorad.training.data.Lexicon.Phrase;
import dev.protorad.training.data.RuleScenarios.Finding;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Pattern;

/**
 * Generates labeled synthetic order notes over the catalog, deterministically for a seed.
 *
 * <p>Each note paraphrases one protocol's indication (from a hand-written lexicon; only a protocol
 * the lexicon lacks, as in a site's own catalog, falls back to its catalog indications) and, for
 * rule scenarios, adds a finding that changes the answer per the catalog rules (eGFR 22 turns CT
 * Chest W into CT Chest WO) or deliberately does not (dialysis, shellfish allergy, MR-conditional
 * pacemaker). The note is then written in one of several styles with surface noise. The first notes
 * cover every protocol and every rule cell so small sets still cover the catalog. Splits are drawn
 * at random (80/10/10); a note that duplicates an earlier note after normalization, or is a
 * near-duplicate ({@link NearDuplicates}) of a note in another split, is discarded and drawn again.
 */
public final class SyntheticNotes {

  /** Default seed. */
  public static final long DEFAULT_SEED = 7;

  private static final int MAX_ATTEMPTS = 200;
  private static final double RULE_SHARE = 0.35;
  private static final double SYNONYM_RATE = 0.5;
  private static final Set<String> MALE_ONLY =
      Set.of("mri-prostate-w-wo", "us-scrotum", "pet-ct-psma");
  private static final Set<String> FEMALE_ONLY = Set.of("us-pelvis", "us-ob-first-trimester");
  private static final Pattern FEMALE =
      Pattern.compile(
          "(?i)pregnan|hcg|lmp|menstrual|uterine|postmenopausal|ovarian|adnexal|endometri|"
              + "fibroid|breast ca|ectopic|trimester|cervical ca|uae|galactorrhea");
  private static final Pattern MALE =
      Pattern.compile("(?i)prostat|psa|testic|scrot|varicocele|hydrocele");
  private static final Pattern ELDERLY = Pattern.compile("(?i)elderly|older|nursing home");
  private static final Pattern YOUNG = Pattern.compile("(?i)young|athlete|runner");
  private static final NoteStyle[] STYLE_WHEEL = styleWheel();

  private final Catalog catalog;
  private final Lexicon lexicon;
  private final long seed;
  private final double threshold;

  private SyntheticNotes(Builder b) {
    this.catalog = b.catalog;
    this.lexicon = Lexicon.loadDefault();
    this.seed = b.seed;
    this.threshold = b.threshold;
  }

  /** Starts a generator over {@code catalog}. */
  public static Builder builder(Catalog catalog) {
    return new Builder(catalog);
  }

  /** Builds a {@link SyntheticNotes}. */
  public static final class Builder {
    private final Catalog catalog;
    private long seed = DEFAULT_SEED;
    private double threshold = NearDuplicates.DEFAULT_THRESHOLD;

    private Builder(Catalog catalog) {
      this.catalog = requireNonNull(catalog, "catalog");
    }

    /** The random seed; the same seed and catalog give the same dataset. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Jaccard threshold for near-duplicates across splits, in (0, 1]. */
    public Builder nearDuplicateThreshold(double threshold) {
      if (!(threshold > 0 && threshold <= 1)) {
        throw new IllegalArgumentException("threshold: " + threshold + " (expected: (0, 1])");
      }
      this.threshold = threshold;
      return this;
    }

    /** Creates the generator. */
    public SyntheticNotes build() {
      return new SyntheticNotes(this);
    }
  }

  /** A (protocol, scenario) pair and the paraphrases it may use. */
  private record Cell(Protocol source, Scenario scenario, List<Phrase> phrases) {}

  /**
   * Generates {@code n} notes (fewer only if no new non-duplicate note could be drawn).
   *
   * @param n number of notes, at least 1
   */
  public SyntheticDataset generate(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("n: " + n + " (expected: >= 1)");
    }
    SplittableRandom rng = new SplittableRandom(seed);
    List<Cell> plain = plainCells();
    List<Cell> rule = ruleCells();
    NoteWriter writer = new NoteWriter(rng);
    NearDuplicates index = NearDuplicates.index(threshold);
    Set<String> seen = new HashSet<>();
    List<GeneratedNote> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        Cell cell = cell(i, plain, rule, rng);
        GeneratedNote note = draw(cell, writer, rng);
        String norm = NearDuplicates.normalize(note.example().note());
        if (norm.isEmpty() || seen.contains(norm)) {
          continue;
        }
        if (index.hasNearDuplicateOutside(note.example().note(), note.split().ordinal())) {
          continue;
        }
        seen.add(norm);
        index.add(note.example().note(), note.split().ordinal());
        out.add(note);
        break;
      }
    }
    return new SyntheticDataset(out);
  }

  private static Cell cell(int i, List<Cell> plain, List<Cell> rule, SplittableRandom rng) {
    if (i < plain.size()) {
      return plain.get(i);
    }
    if (i < plain.size() + rule.size()) {
      return rule.get(i - plain.size());
    }
    return !rule.isEmpty() && rng.nextDouble() < RULE_SHARE
        ? rule.get(rng.nextInt(rule.size()))
        : plain.get(rng.nextInt(plain.size()));
  }

  private GeneratedNote draw(Cell cell, NoteWriter writer, SplittableRandom rng) {
    Phrase phrase = RuleScenarios.pick(rng, cell.phrases());
    String label =
        RuleScenarios.target(cell.scenario(), cell.source().id(), phrase.tag())
            .orElseThrow(() -> new IllegalStateException("no target for " + cell.source().id()));
    String reason = Surface.synonyms(Surface.fillSlots(phrase.text(), rng), SYNONYM_RATE, rng);
    Finding finding =
        cell.scenario() == Scenario.INDICATION ? null : RuleScenarios.finding(cell.scenario(), rng);
    boolean female = female(cell, reason, rng);
    int age = age(cell, reason, female, rng);
    NoteStyle style = STYLE_WHEEL[rng.nextInt(STYLE_WHEEL.length)];
    String note =
        writer.write(
            style,
            new NoteWriter.Content(
                reason,
                finding,
                age,
                female,
                NoteWriter.mentionsTrauma(reason),
                phrase.exclusive() || !phrase.tag().isEmpty()));
    Split split = split(rng);
    return new GeneratedNote(
        new Example(note, label), split, style, cell.scenario(), cell.source().id());
  }

  private static Split split(SplittableRandom rng) {
    double r = rng.nextDouble();
    return r < 0.8 ? Split.TRAIN : r < 0.9 ? Split.VALIDATION : Split.TEST;
  }

  /** Female when the scenario, protocol or reason says so, male when they say so, else either. */
  private static boolean female(Cell cell, String reason, SplittableRandom rng) {
    return mustBeFemale(cell, reason) || (!mustBeMale(cell, reason) && rng.nextBoolean());
  }

  private static boolean mustBeFemale(Cell cell, String reason) {
    return cell.scenario() == Scenario.PREGNANCY
        || FEMALE_ONLY.contains(cell.source().id())
        || FEMALE.matcher(reason).find();
  }

  private static boolean mustBeMale(Cell cell, String reason) {
    return MALE_ONLY.contains(cell.source().id()) || MALE.matcher(reason).find();
  }

  private static int age(Cell cell, String reason, boolean female, SplittableRandom rng) {
    if (cell.scenario() == Scenario.PREGNANCY
        || (female
            && Pattern.compile("(?i)pregnan|hcg|lmp|trimester|ectopic").matcher(reason).find())) {
      return 18 + rng.nextInt(25);
    }
    if (cell.source().id().equals("ct-chest-low-dose-screening")) {
      return 50 + rng.nextInt(31);
    }
    if (ELDERLY.matcher(reason).find()) {
      return 65 + rng.nextInt(30);
    }
    if (YOUNG.matcher(reason).find()) {
      return 18 + rng.nextInt(18);
    }
    return 18 + rng.nextInt(75);
  }

  private List<Cell> plainCells() {
    return catalog.protocols().stream()
        .map(p -> new Cell(p, Scenario.INDICATION, phrases(p)))
        .toList();
  }

  private List<Cell> ruleCells() {
    List<Cell> cells = new ArrayList<>();
    for (Scenario s : Scenario.values()) {
      if (s == Scenario.INDICATION) {
        continue;
      }
      for (Protocol p : catalog.protocols()) {
        if (!applicable(s, p)) {
          continue;
        }
        List<Phrase> eligible =
            phrases(p).stream()
                .filter(ph -> !ph.exclusive())
                .filter(
                    ph ->
                        RuleScenarios.target(s, p.id(), ph.tag())
                            .filter(catalog::contains)
                            .isPresent())
                .toList();
        if (!eligible.isEmpty()) {
          cells.add(new Cell(p, s, eligible));
        }
      }
    }
    return cells;
  }

  private static boolean applicable(Scenario s, Protocol p) {
    return switch (s) {
      case DIALYSIS_UNCHANGED, ALLERGY_UNCHANGED ->
          p.usesIodinatedContrast() && p.modality() == Modality.CT;
      case MRI_CONDITIONAL_DEVICE -> p.modality().isMagneticResonance() && !p.contrast().isGiven();
      default -> true;
    };
  }

  /**
   * The protocol's paraphrases; a protocol missing from the lexicon (a site catalog with its own
   * protocols) falls back to its catalog indications, which the surface layer still varies.
   */
  private List<Phrase> phrases(Protocol p) {
    List<Phrase> own = lexicon.phrases(p.id());
    return own.isEmpty() ? catalogPhrases(p) : own;
  }

  /** The protocol's catalog indications, or its name when it lists none. */
  private static List<Phrase> catalogPhrases(Protocol p) {
    List<Phrase> fallback = p.indications().stream().map(i -> new Phrase("", i)).toList();
    return fallback.isEmpty() ? List.of(new Phrase("", p.name())) : fallback;
  }

  private static NoteStyle[] styleWheel() {
    int[] weights = {18, 14, 14, 12, 8, 8, 8, 8, 6, 8};
    List<NoteStyle> wheel = new ArrayList<>();
    NoteStyle[] styles = NoteStyle.values();
    for (int i = 0; i < styles.length; i++) {
      for (int w = 0; w < weights[i]; w++) {
        wheel.add(styles[i]);
      }
    }
    return wheel.toArray(NoteStyle[]::new);
  }
}
