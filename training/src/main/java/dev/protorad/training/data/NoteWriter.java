package dev.protorad.training.data;

import static dev.protorad.training.data.RuleScenarios.pick;

import dev.protorad.training.data.RuleScenarios.Finding;
import dev.protorad.training.data.RuleScenarios.Section;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Renders a clinical reason, an optional rule finding and patient context as a note in one {@link
 * NoteStyle}, then applies surface noise (abbreviation or expansion, typos, case).
 */
final class NoteWriter {

  /** What the note must say and who it is about. */
  record Content(
      String reason,
      @Nullable Finding finding,
      int age,
      boolean female,
      boolean mentionsTrauma,
      boolean keepWhole) {}

  private static final Pattern TRAUMA =
      Pattern.compile("(?i)fall|fell|trauma|mvc|injur|hit|assault|punch|kick|gsw|struck|dive");

  private static final Pattern SAFETY_CONTEXT =
      Pattern.compile(
          "(?i)contrast|allerg|egfr|pacemaker|icd|mri|implant|pregnan|cochlear|stimulator|"
              + "dialysis|hcg|lmp|ectopic|trimester");
  private static final String[] COMORBID = {
    "HTN",
    "HLD",
    "DM2",
    "GERD",
    "hypothyroidism",
    "OA",
    "afib on apixaban",
    "CAD s/p PCI",
    "COPD",
    "asthma",
    "obesity",
    "depression",
    "anxiety",
    "migraines",
    "gout",
    "BPH",
    "CHF",
    "OSA on CPAP",
    "remote appendectomy",
    "s/p cholecystectomy",
    "iron deficiency anemia",
    "chronic back pain",
    "hyperlipidemia",
    "hypertension",
    "type 2 diabetes",
    "prior smoker",
    "ETOH use",
    "RA",
    "psoriasis",
    "glaucoma",
    "CKD 3a (baseline Cr 1.3)"
  };
  private static final String[] MEDS = {
    "lisinopril 10 mg daily",
    "atorvastatin 40",
    "metformin 500 BID",
    "amlodipine 5",
    "levothyroxine 75 mcg",
    "omeprazole 20",
    "aspirin 81",
    "apixaban 5 BID",
    "metoprolol 25",
    "sertraline 50",
    "albuterol prn",
    "insulin glargine 20u qhs",
    "furosemide 40",
    "gabapentin 300",
    "tamsulosin 0.4",
    "prednisone 5",
    "warfarin",
    "losartan 50",
    "HCTZ 25",
    "vitamin D"
  };
  private static final String[] OTHER_ALLERGIES = {
    "NKDA",
    "NKA",
    "no known allergies",
    "PCN (rash)",
    "sulfa",
    "codeine (nausea)",
    "latex",
    "penicillin",
    "none known"
  };
  private static final String[] GENERIC_NEGATIONS = {
    "no fever", "denies recent travel", "no weight loss", "no prior similar episodes",
    "denies chest pain", "no nausea or vomiting", "denies fevers/chills", "no recent surgery",
    "no sick contacts", "denies urinary sx"
  };
  private static final String[] SAFETY_NEGATIONS = {
    "no contrast allergy", "denies contrast allergy", "NKDA", "no pacemaker or implants",
    "no metal in body", "renal function normal", "eGFR >60", "no h/o CKD",
    "no prior contrast reaction", "denies implanted devices", "Cr 0.9", "not on dialysis"
  };
  private static final String[] FEMALE_NEGATIONS = {
    "not pregnant",
    "UPT neg",
    "pregnancy test negative",
    "postmenopausal",
    "s/p hysterectomy",
    "hcg negative"
  };

  private final SplittableRandom rng;

  NoteWriter(SplittableRandom rng) {
    this.rng = rng;
  }

  String write(NoteStyle style, Content c) {
    String note =
        switch (style) {
          case TERSE -> terse(c);
          case SENTENCE -> sentence(c);
          case EHR -> ehr(c);
          case ABBREVIATED -> Surface.abbreviate(terse(c), 0.9, rng);
          case MINIMAL -> minimal(c);
          case LONG_NARRATIVE -> longNarrative(c);
          case QUESTION -> question(c);
          case LIST -> list(c);
          case REFERRAL -> referral(c);
          case ORDER_FORM -> orderForm(c);
        };
    return Surface.noise(note, style, rng);
  }

  private String terse(Content c) {
    List<String> parts = terseParts(c);
    String body = String.join(pick(rng, ", ", "; ", ". ", " - ", ", "), parts);
    String demo = demoShort(c);
    return demo.isEmpty() ? body : demo + pick(rng, " ", ": ", ", ", " w/ ") + body;
  }

  /** The reason, the finding when there is one, then zero to two extras. */
  private List<String> terseParts(Content c) {
    List<String> parts = new ArrayList<>();
    parts.add(c.reason());
    addFinding(parts, c);
    addExtras(parts, c, rng.nextInt(3));
    return parts;
  }

  private String minimal(Content c) {
    String head = minimalReason(c);
    return c.finding() == null ? head : head + pick(rng, ", ", " ", "; ") + c.finding().text();
  }

  /** The reason, sometimes cut at its first comma when the part before it is long enough. */
  private String minimalReason(Content c) {
    String reason = c.reason();
    int comma = reason.indexOf(',');
    boolean cut = comma > 0 && !c.keepWhole() && reason.substring(0, comma).split(" ").length >= 3;
    return cut && rng.nextBoolean() ? reason.substring(0, comma) : reason;
  }

  private String sentence(Content c) {
    StringBuilder sb = new StringBuilder();
    sb.append(
        pick(
            rng,
            cap(demoLong(c)) + " with " + pmh(c) + " presenting with " + c.reason() + ".",
            "Patient is a " + demoLong(c) + " here for " + c.reason() + ".",
            cap(demoLong(c)) + " who reports " + c.reason() + ".",
            "This " + demoLong(c) + " has " + c.reason() + ".",
            "Pt with " + c.reason() + ".",
            cap(c.reason()) + " in a " + demoLong(c) + "."));
    if (c.finding() != null) {
      sb.append(' ')
          .append(pick(rng, "Of note, ", "Note: ", "Also ", "Pt has ", "Important: ", ""))
          .append(c.finding().text())
          .append('.');
    }
    if (rng.nextInt(3) == 0) {
      sb.append(' ').append(cap(negation(c))).append('.');
    }
    sb.append(
        pick(rng, " Please evaluate.", " Thank you.", "", " Eval requested.", " Thanks!", ""));
    return sb.toString();
  }

  private String ehr(Content c) {
    List<String> lines = new ArrayList<>();
    String reasonHeader = pick(rng, "Reason for exam", "Indication", "Clinical history", "RFE");
    boolean reasonFirst = rng.nextBoolean();
    if (reasonFirst) {
      lines.add(reasonHeader + ": " + c.reason());
    }
    lines.add(pick(rng, "HPI", "History", "Hx") + ": " + demoLong(c) + ", " + hpi(c));
    lines.add(pick(rng, "PMH", "PMHx", "Past medical history") + ": " + historyLine(c));
    if (rng.nextBoolean()) {
      lines.add(pick(rng, "Meds", "Medications", "Current meds") + ": " + meds());
    }
    lines.add(pick(rng, "Allergies", "ALLERGIES", "All") + ": " + allergyLine(c));
    if (rng.nextBoolean()) {
      lines.add(vitals());
    }
    lines.add(pick(rng, "Labs", "Recent labs", "BMP") + ": " + labLine(c));
    if (!reasonFirst) {
      lines.add(reasonHeader + ": " + c.reason());
    }
    return String.join(pick(rng, "\n", "\n", "  ", " | "), lines);
  }

  private String longNarrative(Content c) {
    StringBuilder sb = new StringBuilder();
    sb.append(cap(demoLong(c)))
        .append(" with a past medical history significant for ")
        .append(pmh(c))
        .append(", ")
        .append(pick(rng, "now presents with ", "who comes in today with ", "seen in clinic for "))
        .append(c.reason())
        .append(". ");
    sb.append(
        pick(
            rng,
            "Symptoms started " + duration() + " and have been progressively worsening. ",
            "Onset " + duration() + ", intermittent, no clear aggravating factors. ",
            "Was seen at an outside urgent care " + duration() + " and sent in for imaging. "));
    if (c.finding() != null) {
      sb.append(pick(rng, "Importantly, ", "Of note, ", "Please note ", ""))
          .append(c.finding().text())
          .append(". ");
    }
    sb.append("Social history: ")
        .append(pick(rng, "former smoker, quit 10 yrs ago", "never smoker", "drinks socially"))
        .append(", lives ")
        .append(pick(rng, "with spouse", "alone", "with daughter", "in assisted living"))
        .append(". Medications include ")
        .append(meds())
        .append(". ")
        .append(cap(negation(c)))
        .append(", ")
        .append(pick(rng, GENERIC_NEGATIONS))
        .append(". ")
        .append(vitals())
        .append(". Labs: ")
        .append(labLine(c))
        .append(". ")
        .append(
            pick(
                rng,
                "Plan discussed with attending, imaging requested to guide management.",
                "We would appreciate your help with imaging. Will follow up results.",
                "Further management pending imaging."));
    return sb.toString();
  }

  private String question(Content c) {
    String finding = c.finding() == null ? "" : " (" + c.finding().text() + ")";
    return pick(
        rng,
        "?" + c.reason() + finding,
        "Please assess: " + c.reason() + finding + "?",
        demoShort(c) + " " + c.reason() + finding + " - what is going on?",
        "Can you image for " + c.reason() + finding + "?",
        c.reason() + finding + ". Protocol?");
  }

  private String list(Content c) {
    List<String> items = listItems(c);
    String bullet = pick(rng, "- ", "* ", "• ", "");
    return items.stream().map(item -> bullet + item).collect(Collectors.joining("\n")).strip();
  }

  /** Demographics, reason, the finding when there is one, then one to three extras. */
  private List<String> listItems(Content c) {
    List<String> items = new ArrayList<>();
    items.add(demoLong(c));
    items.add(c.reason());
    if (c.finding() != null) {
      items.add(c.finding().text());
    }
    addExtras(items, c, 1 + rng.nextInt(3));
    return items;
  }

  private String referral(Content c) {
    String who =
        c.female() ? pick(rng, "Ms.", "Mrs.", "my patient") : pick(rng, "Mr.", "my patient");
    String finding = c.finding() == null ? "" : " Please be aware: " + c.finding().text() + ".";
    return pick(rng, "Dear Radiology,", "Dear colleague,", "To the reading radiologist:")
        + " I am referring "
        + who
        + " ("
        + c.age()
        + (c.female() ? "F" : "M")
        + ") for imaging regarding "
        + c.reason()
        + "."
        + finding
        + " Background: "
        + pmh(c)
        + ". "
        + pick(
            rng, "Kind regards, Dr. Okafor", "Thanks, Dr. Lindqvist", "Regards, PCP", "Thank you.");
  }

  private String orderForm(Content c) {
    @Nullable Finding f = c.finding();
    String sep = pick(rng, "? ", ": ", " - ");
    List<String> lines = new ArrayList<>();
    lines.add(
        pick(rng, "Exam reason", "Reason for study", "Dx/Reason", "Clinical indication")
            + ": "
            + c.reason());
    String yes = pick(rng, "Y - ", "Yes - ", "YES: ", "yes, ");
    boolean askPregnancy = c.female() && c.age() < 55 && !SAFETY_CONTEXT.matcher(c.reason()).find();
    String hpi = textIn(f, Section.HPI);
    if (askPregnancy || hpi != null) {
      lines.add(
          pick(rng, "Pregnant", "Pregnancy status", "Possibility of pregnancy")
              + sep
              + (hpi != null ? yes + hpi : pick(rng, "No", "N", "neg UPT")));
    }
    String allergies = textIn(f, Section.ALLERGIES);
    if (allergies != null || rng.nextBoolean()) {
      lines.add(
          pick(rng, "Contrast allergy", "Allergies", "Prior contrast reaction")
              + sep
              + (allergies != null ? allergies : pick(rng, "No", "None", "NKDA", "N")));
    }
    String history = textIn(f, Section.HISTORY);
    if (history != null || rng.nextBoolean()) {
      lines.add(
          pick(rng, "Implants/devices", "Pacemaker or metal", "MRI screening", "Dialysis/devices")
              + sep
              + (history != null ? yes + history : pick(rng, "None", "No", "N", "denies")));
    }
    String labs = textIn(f, Section.LABS);
    if (labs != null || rng.nextBoolean()) {
      lines.add(
          pick(rng, "Renal function", "Cr/eGFR", "Most recent creatinine")
              + sep
              + (labs != null ? labs : labLine(c)));
    }
    lines.add(
        pick(
            rng,
            "Priority: routine",
            "Priority: STAT",
            "Priority: urgent",
            "Transport: wheelchair",
            "Ordering: ED"));
    return String.join("\n", lines);
  }

  /** The finding's text when it belongs in {@code section}; null otherwise. */
  private static @Nullable String textIn(@Nullable Finding f, Section section) {
    return f != null && f.section() == section ? f.text() : null;
  }

  private void addFinding(List<String> parts, Content c) {
    if (c.finding() != null) {
      parts.add(rng.nextInt(4) == 0 ? 0 : parts.size(), c.finding().text());
    }
  }

  private void addExtras(List<String> parts, Content c, int count) {
    for (int i = 0; i < count; i++) {
      parts.add(extra(c));
    }
  }

  private String extra(Content c) {
    return switch (rng.nextInt(4)) {
      case 0 -> "hx " + pick(rng, COMORBID);
      case 1 -> negation(c);
      case 2 -> pick(rng, COMORBID);
      default -> pick(rng, GENERIC_NEGATIONS);
    };
  }

  private String negation(Content c) {
    if (SAFETY_CONTEXT.matcher(c.reason()).find()) {
      return pick(rng, GENERIC_NEGATIONS);
    }
    if (!c.mentionsTrauma() && rng.nextInt(5) == 0) {
      return "denies trauma";
    }
    if (c.female() && c.age() < 50 && c.finding() == null && rng.nextInt(3) == 0) {
      return pick(rng, FEMALE_NEGATIONS);
    }
    return c.finding() == null ? pick(rng, SAFETY_NEGATIONS) : pick(rng, GENERIC_NEGATIONS);
  }

  private String hpi(Content c) {
    String base = pick(rng, "presents with ", "c/o ", "here for ", "") + c.reason();
    if (c.finding() != null && c.finding().section() == Section.HPI) {
      base += ", " + c.finding().text();
    }
    return base + (rng.nextBoolean() ? ", " + pick(rng, GENERIC_NEGATIONS) : "");
  }

  private String historyLine(Content c) {
    String pmh = pmh(c);
    String history = textIn(c.finding(), Section.HISTORY);
    return history == null ? pmh : eitherOrder(history, pmh);
  }

  /** {@code "a, b"} or {@code "b, a"}, at random. */
  private String eitherOrder(String a, String b) {
    return rng.nextBoolean() ? a + ", " + b : b + ", " + a;
  }

  private String allergyLine(Content c) {
    if (c.finding() != null && c.finding().section() == Section.ALLERGIES) {
      return c.finding().text();
    }
    return pick(rng, OTHER_ALLERGIES);
  }

  private String labLine(Content c) {
    if (c.finding() != null && c.finding().section() == Section.LABS) {
      return "WBC " + (5 + rng.nextInt(10)) + ", " + c.finding().text();
    }
    String cr = String.format(Locale.ROOT, "%.1f", 0.6 + rng.nextDouble() * 0.6);
    return pick(
        rng,
        "Cr " + cr + ", eGFR " + (62 + rng.nextInt(50)),
        "WBC " + (4 + rng.nextInt(14)) + ", Hgb " + (10 + rng.nextInt(6)) + ", Cr " + cr,
        "BMP wnl",
        "Na 138, K 4.1, BUN 14, Cr " + cr,
        "eGFR >60");
  }

  private String pmh(Content c) {
    List<String> items =
        distinctPicks(1 + rng.nextInt(3), COMORBID, item -> !(c.female() && item.equals("BPH")));
    return items.isEmpty() ? "none" : String.join(", ", items);
  }

  private String meds() {
    return String.join(", ", distinctPicks(1 + rng.nextInt(4), MEDS, item -> true));
  }

  /** {@code n} picks from {@code options}, repeats and items {@code allowed} rejects left out. */
  private List<String> distinctPicks(int n, String[] options, Predicate<String> allowed) {
    List<String> items = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String item = pick(rng, options);
      if (!items.contains(item) && allowed.test(item)) {
        items.add(item);
      }
    }
    return items;
  }

  private String vitals() {
    return "BP "
        + (100 + rng.nextInt(70))
        + "/"
        + (60 + rng.nextInt(35))
        + " HR "
        + (55 + rng.nextInt(65))
        + " RR "
        + (12 + rng.nextInt(12))
        + " SpO2 "
        + (88 + rng.nextInt(12))
        + "%"
        + (rng.nextBoolean() ? " T " + (36 + rng.nextInt(3)) + "." + rng.nextInt(10) : "");
  }

  private String duration() {
    return pick(rng, "2 days ago", "yesterday", "3 weeks ago", "this morning", "a month ago");
  }

  private String demoShort(Content c) {
    String s = c.female() ? "F" : "M";
    return pick(
        rng,
        c.age() + s,
        c.age() + " " + s,
        c.age() + "yo " + s,
        c.age() + " y/o " + (c.female() ? "female" : "male"),
        s + " " + c.age(),
        "pt",
        "");
  }

  private String demoLong(Content c) {
    String sex =
        c.female()
            ? pick(rng, "woman", "female", "lady", "F", "patient")
            : pick(rng, "man", "male", "gentleman", "M", "patient");
    return pick(
        rng,
        c.age() + "-year-old " + sex,
        c.age() + " yo " + sex,
        c.age() + " y/o " + sex,
        c.age() + "yo" + (c.female() ? "F" : "M"));
  }

  static boolean mentionsTrauma(String reason) {
    return TRAUMA.matcher(reason).find();
  }

  private static String cap(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }
}
