package dev.protorad.training.data;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Which label a rule scenario gives for a source protocol, and the finding's wording.
 *
 * <p>The targets follow the catalog's {@code rules}: the non-contrast counterpart of the same
 * region from {@code prefer} (e.g. CT Chest W with eGFR 22 becomes CT Chest WO), US/MRI in
 * pregnancy, the CT counterpart for MRI-unsafe implants. Keys are a protocol id, or {@code id@tag}
 * for a paraphrase subset (appendicitis in pregnancy goes to US RLQ, other abdominal pain to MRI).
 * Protocols without a clear counterpart in {@code prefer} get no scenario.
 */
final class RuleScenarios {

  private static final Map<Scenario, Map<String, String>> TARGETS = new EnumMap<>(Scenario.class);

  static {
    TARGETS.put(
        Scenario.RENAL_IODINATED,
        Map.of(
            "ct-chest-w", "ct-chest-wo",
            "ct-abdomen-w", "ct-abdomen-pelvis-wo",
            "ct-abdomen-pelvis-w", "ct-abdomen-pelvis-wo",
            "ct-urogram", "us-kidneys-bladder",
            "cta-chest-pe@pe", "nm-lung-vq",
            "cta-head", "mra-head-wo",
            "cta-head-neck@stroke", "mra-head-wo"));
    TARGETS.put(
        Scenario.ALLERGY_IODINATED,
        Map.of(
            "ct-chest-w", "ct-chest-wo",
            "ct-abdomen-w", "ct-abdomen-pelvis-wo",
            "ct-abdomen-pelvis-w", "ct-abdomen-pelvis-wo",
            "ct-urogram", "us-kidneys-bladder",
            "cta-chest-pe@pe", "nm-lung-vq",
            "cta-head", "mra-head-wo",
            "cta-head-neck@stroke", "mra-head-wo",
            "cta-head-neck", "mra-neck-w-wo",
            "ct-abdomen-liver-multiphase", "mri-abdomen-liver-w-wo"));
    TARGETS.put(
        Scenario.RENAL_GADOLINIUM,
        Map.of("mri-brain-w-wo", "mri-brain-wo", "mri-extremity-w-wo", "mri-extremity-wo"));
    TARGETS.put(
        Scenario.ALLERGY_GADOLINIUM,
        Map.of(
            "mri-brain-w-wo", "mri-brain-wo",
            "mri-extremity-w-wo", "mri-extremity-wo",
            "mri-abdomen-liver-w-wo", "ct-abdomen-liver-multiphase",
            "mra-neck-w-wo", "cta-head-neck"));
    TARGETS.put(
        Scenario.PREGNANCY,
        Map.of(
            "ct-abdomen-pelvis-w@appy", "us-abdomen-rlq",
            "ct-abdomen-pelvis-w", "mri-abdomen-pelvis-wo",
            "ct-abdomen-pelvis-wo@stone", "us-kidneys-bladder",
            "ct-urogram", "us-kidneys-bladder",
            "cta-chest-pe@pe", "xr-chest-2v",
            "mri-brain-w-wo", "mri-brain-wo",
            "nm-hepatobiliary-hida@chole", "mri-abdomen-mrcp"));
    Map<String, String> device =
        Map.ofEntries(
            Map.entry("mri-brain-wo", "ct-head-wo"),
            Map.entry("mri-brain-w-wo", "ct-head-w-wo"),
            Map.entry("mri-cervical-spine-wo", "ct-cervical-spine-wo"),
            Map.entry("mri-thoracic-spine-wo", "ct-thoracolumbar-spine-wo"),
            Map.entry("mri-lumbar-spine-wo", "ct-thoracolumbar-spine-wo"),
            Map.entry("mri-abdomen-liver-w-wo", "ct-abdomen-liver-multiphase"),
            Map.entry("mri-extremity-wo", "ct-extremity-wo"),
            Map.entry("mri-extremity-w-wo@osteo", "nm-bone-scan-whole-body"),
            Map.entry("mra-head-wo", "cta-head"),
            Map.entry("mra-neck-w-wo", "cta-head-neck"));
    TARGETS.put(Scenario.MRI_UNSAFE_DEVICE, device);
  }

  private RuleScenarios() {}

  /**
   * The label for {@code sourceId} with a paraphrase tagged {@code tag} under {@code scenario}; for
   * scenarios that never change the label it is the source itself.
   */
  static Optional<String> target(Scenario scenario, String sourceId, String tag) {
    Map<String, String> map = TARGETS.get(scenario);
    if (map == null) {
      return Optional.of(sourceId);
    }
    String tagged = map.get(sourceId + "@" + tag);
    return Optional.ofNullable(tagged != null ? tagged : map.get(sourceId));
  }

  /** Whether the scenario changes labels (it has a target table). */
  static boolean changesLabel(Scenario scenario) {
    return TARGETS.containsKey(scenario);
  }

  /** Where an EHR-style note puts the finding. */
  enum Section {
    LABS,
    ALLERGIES,
    HISTORY,
    HPI
  }

  /** A finding's wording and its EHR section. */
  record Finding(String text, Section section) {}

  static Finding finding(Scenario scenario, SplittableRandom rng) {
    return switch (scenario) {
      case RENAL_IODINATED, RENAL_GADOLINIUM -> renal(rng);
      case DIALYSIS_UNCHANGED ->
          new Finding(
              pick(
                  rng,
                  "ESRD on HD MWF",
                  "on hemodialysis via " + side(rng) + " AV fistula",
                  "ESRD on peritoneal dialysis",
                  "dialysis dependent (TTS schedule)",
                  "end stage renal disease on maintenance dialysis",
                  "ESRD, HD Tues/Thurs/Sat, next session tomorrow"),
              Section.HISTORY);
      case ALLERGY_IODINATED ->
          new Finding(
              pick(
                  rng,
                  "h/o anaphylaxis to IV contrast",
                  "severe contrast allergy (throat swelling, hypotension)",
                  "prior reaction to iodinated contrast w/ bronchospasm",
                  "allergic to CT dye - diffuse hives and wheezing",
                  "contrast allergy: anaphylaxis 2019",
                  "previous severe allergic reaction to iodinated contrast, required epi",
                  "IV contrast allergy (facial swelling, SOB)"),
              Section.ALLERGIES);
      case ALLERGY_UNCHANGED ->
          new Finding(
              pick(
                  rng,
                  "allergies: shellfish",
                  "iodine allergy (rash with betadine)",
                  "allergic to seafood",
                  "allergies: PCN, shellfish",
                  "mild itching after IV contrast years ago, no other symptoms",
                  "few hives after contrast in 2018, resolved w/o treatment",
                  "shellfish allergy, no prior contrast reaction"),
              Section.ALLERGIES);
      case ALLERGY_GADOLINIUM ->
          new Finding(
              pick(
                  rng,
                  "anaphylaxis to gadolinium in 2021",
                  "prior severe reaction to MRI contrast (throat swelling)",
                  "gad allergy - bronchospasm",
                  "allergic to gadolinium, severe hives and hypotension",
                  "h/o severe reaction to gadavist"),
              Section.ALLERGIES);
      case PREGNANCY -> pregnancy(rng);
      case MRI_UNSAFE_DEVICE ->
          new Finding(
              pick(
                  rng,
                  "legacy pacemaker, not MRI conditional",
                  "non-conditional ICD",
                  "cochlear implant " + side(rng),
                  "h/o metal fragments in " + side(rng) + " eye (welder)",
                  "deep brain stimulator in place",
                  "abandoned pacing leads",
                  "old aneurysm clip, not MR safe",
                  "spinal cord stimulator (non-conditional)",
                  "AICD, older non MRI compatible model"),
              Section.HISTORY);
      case MRI_CONDITIONAL_DEVICE ->
          new Finding(
              pick(
                  rng,
                  "MRI-conditional pacemaker, device team aware",
                  "MR conditional ICD, will be reprogrammed",
                  "pacemaker (MRI conditional system)",
                  "has MR-conditional PPM"),
              Section.HISTORY);
      case INDICATION -> throw new IllegalArgumentException("scenario: INDICATION has no finding");
    };
  }

  private static Finding renal(SplittableRandom rng) {
    int egfr = 8 + rng.nextInt(22);
    String cr = String.format(java.util.Locale.ROOT, "%.1f", 2.2 + rng.nextDouble() * 3);
    String base = String.format(java.util.Locale.ROOT, "%.1f", 0.7 + rng.nextDouble() * 0.4);
    String text =
        pick(
            rng,
            "eGFR " + egfr,
            "eGFR " + egfr + ", not on dialysis",
            "GFR: " + egfr + " mL/min",
            "CKD stage 4, not on HD",
            "CKD IV (eGFR " + egfr + ")",
            "AKI, Cr " + cr + " (baseline " + base + ")",
            "acute kidney injury, creatinine " + cr,
            "Cr " + cr + ", eGFR " + egfr,
            "poor renal function - eGFR " + egfr + ", not on HD",
            "eGFR " + egfr + " mL/min/1.73m2");
    return new Finding(text, Section.LABS);
  }

  private static Finding pregnancy(SplittableRandom rng) {
    int weeks = 6 + rng.nextInt(31);
    String trimester = weeks < 14 ? "first" : weeks < 28 ? "second" : "third";
    String text =
        pick(
            rng,
            weeks + " wks pregnant",
            "pregnant, " + weeks + " weeks",
            "G2P1 at " + weeks + " wks",
            "IUP at " + weeks + "w" + rng.nextInt(7) + "d",
            "currently pregnant (" + trimester + " trimester)",
            "+ beta hCG, ~" + weeks + " wks by LMP",
            "pregnant (" + weeks + " wk)",
            trimester + " trimester pregnancy");
    return new Finding(text, Section.HPI);
  }

  static String side(SplittableRandom rng) {
    return pick(rng, "left", "right", "L", "R", "lt", "rt");
  }

  static String pick(SplittableRandom rng, String... options) {
    return options[rng.nextInt(options.length)];
  }

  static <T> T pick(SplittableRandom rng, List<T> options) {
    return options.get(rng.nextInt(options.size()));
  }
}
