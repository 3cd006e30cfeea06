package dev.protorad.clinical.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RuleCheckerTest {

  private static final Catalog CATALOG = Catalog.loadDefault();
  private static final RuleChecker CHECKER = RuleChecker.create();

  static Stream<Arguments> cases() {
    return Stream.of(
        // contrast allergy
        flagged("h/o anaphylaxis to IV contrast, r/o PE", "cta-chest-pe", "contrast-allergy"),
        flagged("Allergies: PCN, iodinated contrast (hives)", "ct-chest-w", "contrast-allergy"),
        flagged("allergic to CT dye", "ct-abdomen-pelvis-w", "contrast-allergy"),
        flagged("CONTRAST ALLERGY - needs premed", "ct-urogram", "contrast-allergy"),
        flagged("prior reaction to omnipaque w/ wheezing", "ct-chest-w", "contrast-allergy"),
        flagged("denies contrast allergy", "ct-chest-w"),
        flagged("no known allergies", "ct-chest-w"),
        flagged("NKDA", "ct-chest-w"),
        flagged("Allergies: shellfish", "ct-chest-w"),
        flagged("iodine allergy (betadine rash)", "ct-chest-w"),
        flagged("no prior contrast reaction", "ct-chest-w"),
        flagged("contrast allergy: none", "ct-chest-w"),
        flagged("Allergies: NKDA. Plan CT with contrast", "ct-chest-w"),
        flagged("h/o anaphylaxis to IV contrast", "ct-chest-wo"),
        flagged("h/o anaphylaxis to IV contrast", "mri-brain-w-wo"),
        flagged("anaphylaxis to gadolinium", "mri-brain-w-wo", "gadolinium-allergy"),
        flagged("anaphylaxis to gadolinium", "mri-brain-wo"),
        // kidney function
        flagged("eGFR 24", "ct-chest-w", "egfr-below-30"),
        flagged("GFR: 28 mL/min", "ct-abdomen-w", "egfr-below-30"),
        flagged("egfr<30", "cta-head", "egfr-below-30"),
        flagged("eGFR of 29.5", "mri-brain-w-wo", "egfr-below-30"),
        flagged("CKD stage 4", "ct-chest-w", "egfr-below-30"),
        flagged("eGFR >60", "ct-chest-w"),
        flagged("eGFR 45", "ct-chest-w"),
        flagged("CKD 3a", "ct-chest-w"),
        flagged("eGFR 24", "ct-chest-wo"),
        flagged("eGFR 24", "us-kidneys-bladder"),
        flagged("Cr 3.2 (baseline 1.0)", "ct-chest-w", "creatinine-elevated"),
        flagged("creatinine 250 umol/L", "ct-chest-w", "creatinine-elevated"),
        flagged("Cr 0.9", "ct-chest-w"),
        flagged("AKI on CKD", "ct-abdomen-pelvis-w", "aki"),
        flagged("acute kidney injury", "mri-brain-w-wo", "aki"),
        flagged("no AKI", "ct-abdomen-pelvis-w"),
        flagged("ESRD on HD MWF", "mri-brain-w-wo", "egfr-below-30", "dialysis"),
        flagged("ESRD on HD MWF", "ct-chest-w", "egfr-below-30"),
        flagged("not on dialysis", "mri-brain-w-wo"),
        // pregnancy
        flagged("22 wks pregnant", "ct-abdomen-pelvis-w", "pregnancy"),
        flagged("+ beta hCG, spotting", "ct-abdomen-pelvis-wo", "pregnancy"),
        flagged("IUP at 12w3d", "nm-bone-scan-whole-body", "pregnancy"),
        flagged("G2P1 at 14 wks", "ct-urogram", "pregnancy"),
        flagged("G2P1, LMP 3 weeks ago", "ct-urogram"),
        flagged("currently pregnant (second trimester)", "mri-brain-w-wo", "pregnancy"),
        flagged("Pt denies fever and is 22 wks pregnant", "ct-abdomen-pelvis-w", "pregnancy"),
        flagged("22 wks pregnant", "mri-brain-wo"),
        flagged("22 wks pregnant", "us-pelvis"),
        flagged("not pregnant", "ct-abdomen-pelvis-w"),
        flagged("Pregnant? N\nContrast allergy: No", "ct-abdomen-pelvis-w"),
        flagged("Pregnancy status - neg UPT", "ct-abdomen-pelvis-w"),
        flagged("Pregnant? Yes - 12 wks pregnant", "ct-abdomen-pelvis-w", "pregnancy"),
        flagged("Pacemaker or metal: N", "mri-brain-wo"),
        flagged("pregnancy test negative", "ct-abdomen-pelvis-w"),
        flagged("non-pregnant adult", "ct-abdomen-pelvis-w"),
        flagged("suspected appendicitis in a nonpregnant adult", "ct-abdomen-pelvis-w"),
        // MRI safety
        flagged("legacy pacemaker, not MRI conditional", "mri-brain-wo", "mri-unsafe-device"),
        flagged("cochlear implant L", "mra-head-wo", "mri-unsafe-device"),
        flagged(
            "h/o metal fragments in R eye (welder)", "mri-lumbar-spine-wo", "mri-unsafe-device"),
        flagged("AICD", "mri-brain-w-wo", "mri-unsafe-device"),
        flagged("MRI-conditional pacemaker, device team aware", "mri-brain-wo"),
        flagged("no pacemaker or implants", "mri-brain-wo"),
        flagged("ICD-10 R51.9 headache", "mri-brain-wo"),
        flagged("legacy pacemaker", "ct-head-wo"),
        // metformin
        flagged("meds: metformin 500 BID", "ct-chest-w", "metformin"),
        flagged("meds: metformin 500 BID", "ct-chest-wo"),
        flagged("stopped metformin last year", "ct-chest-w"));
  }

  private static Arguments flagged(String note, String protocol, String... flags) {
    return Arguments.of(note, protocol, List.of(flags));
  }

  @ParameterizedTest(name = "[{index}] {1}: {0} -> {2}")
  @MethodSource("cases")
  void check_phrasing_givesExpectedFlags(String note, String protocol, List<String> expected) {
    List<String> flags =
        CHECKER.check(note, CATALOG.get(protocol)).stream().map(RuleFlag::id).toList();

    assertThat(flags).containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void checkingFindingsOnce_flagsEveryProtocolAsCheckingTheNoteDoes() {
    String note =
        "34F, 12 wks pregnant, eGFR 22 not on dialysis, anaphylaxis to iodinated contrast,"
            + " legacy pacemaker. r/o PE.";
    Set<RuleFlag> findings = CHECKER.findings(note);

    assertThat(findings).hasSizeGreaterThanOrEqualTo(4);
    for (Protocol p : CATALOG.protocols()) {
      assertThat(CHECKER.check(findings, p)).as(p.id()).isEqualTo(CHECKER.check(note, p));
    }
  }

  @Test
  void check_combinedNote_flagsEveryRelevantFinding() {
    String note =
        "HPI: 34F, 20 wks pregnant, RLQ pain\nAllergies: iodinated contrast (anaphylaxis)\n"
            + "Labs: Cr 2.4, eGFR 26\nMeds: metformin";

    List<RuleFlag> flags = CHECKER.check(note, CATALOG.get("ct-abdomen-pelvis-w"));

    assertThat(flags)
        .containsExactly(
            RuleFlag.CONTRAST_ALLERGY,
            RuleFlag.EGFR_BELOW_30,
            RuleFlag.CREATININE_ELEVATED,
            RuleFlag.PREGNANCY,
            RuleFlag.METFORMIN);
  }

  @Test
  void flagIds_areStableSlugsWithoutNoteText() {
    assertThat(Arrays.stream(RuleFlag.values()).map(RuleFlag::id))
        .allMatch(id -> id.matches("[a-z0-9-]+"))
        .contains("contrast-allergy", "egfr-below-30", "aki", "dialysis", "pregnancy")
        .contains("mri-unsafe-device", "metformin")
        .doesNotHaveDuplicates();
  }
}
