package dev.protorad.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.clinical.catalog.Protocol;
import dev.protorad.engine.checkpoint.RandomCheckpoint;
import dev.protorad.engine.model.AdapterHandle;
import dev.protorad.engine.model.BaseModel;
import dev.protorad.engine.model.LabelScorer;
import dev.protorad.engine.model.LabelScores;
import dev.protorad.engine.model.Packing;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.engine.model.ScoreRequest;
import dev.protorad.engine.peft.LoraAdapter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * Label scoring, the serving hot path: the catalog's labels after corpus notes, with the default
 * adapter, laid out as padded rows (one per label) against a packed trie, interleaved in one run, a
 * batch of 1 note and of 8. Prints the time per note, the label tokens each layout runs through the
 * layers and through the LM head, and the largest difference in any label's probability.
 */
public final class LabelScoringBench implements Benchmark {

  private static final int RUNS = 7;
  private static final int NOTES = 8;

  @Override
  public String name() {
    return "label-scoring";
  }

  @Override
  public String description() {
    return "catalog labels per note: padded rows vs packed trie (time, tokens, largest prob diff)";
  }

  @Override
  public void run(BenchReport report) throws Exception {
    Path work = Files.createTempDirectory("protorad-bench-labels");
    try (BaseModel base = BaseModel.load(modelDir(work))) {
      report.device(base.model().deviceName());
      List<String> labels = Catalog.loadDefault().protocols().stream().map(Protocol::name).toList();
      PromptTemplate template = PromptTemplate.forNewAdapter();
      LabelScorer padded =
          LabelScorer.create(
              base.model(),
              base.tokenizer(),
              template,
              LabelScorer.DEFAULT_LABEL_BATCH,
              Packing.PADDED);
      LabelScorer trie =
          LabelScorer.create(
              base.model(), base.tokenizer(), template, LabelScorer.DEFAULT_LABEL_BATCH);
      try (AdapterHandle adapter = adapter(base)) {
        List<ScoreRequest> requests = new ArrayList<>();
        for (String note : notes()) {
          requests.add(new ScoreRequest(note, adapter, 3, template));
        }
        work(report, labels, padded, trie);
        for (int batch : new int[] {1, NOTES}) {
          measure(report, requests.subList(0, batch), labels, padded, trie);
        }
        report.row(
            "largest |p(trie) - p(padded)|, all notes and labels (target <= 100)",
            largestDifference(requests, labels, padded, trie) * 1e6,
            "x 1e-6");
      }
    }
  }

  private static void work(
      BenchReport report, List<String> labels, LabelScorer padded, LabelScorer trie) {
    LabelScorer.LabelWork before = padded.work(labels);
    LabelScorer.LabelWork after = trie.work(labels);
    report.row("labels", labels.size(), "");
    report.row("padded: label tokens through the layers per note", before.layerTokens(), "");
    report.row("padded: positions through the LM head per note", before.headPositions(), "");
    report.row("trie: label tokens through the layers per note", after.layerTokens(), "");
    report.row("trie: positions through the LM head per note", after.headPositions(), "");
    report.ratio("layer tokens, padded / trie", before.layerTokens(), after.layerTokens(), "");
    report.ratio(
        "LM head positions, padded / trie", before.headPositions(), after.headPositions(), "");
  }

  private static void measure(
      BenchReport report,
      List<ScoreRequest> requests,
      List<String> labels,
      LabelScorer padded,
      LabelScorer trie) {
    double[] t =
        BenchWeights.interleavedMedians(
            1,
            RUNS,
            () -> padded.scoreBatch(requests, labels),
            () -> trie.scoreBatch(requests, labels));
    int n = requests.size();
    String at = " (batch of " + n + ")";
    report.row("padded: per note" + at, t[0] / n, "ms");
    report.row("trie: per note" + at, t[1] / n, "ms");
    report.ratio("label scoring speed, trie / padded" + at, t[0], t[1], "");
  }

  private static double largestDifference(
      List<ScoreRequest> requests, List<String> labels, LabelScorer padded, LabelScorer trie) {
    List<LabelScores> a = padded.scoreBatch(requests, labels);
    List<LabelScores> b = trie.scoreBatch(requests, labels);
    double largest = 0;
    for (int i = 0; i < a.size(); i++) {
      for (int j = 0; j < labels.size(); j++) {
        double p = a.get(i).labels().get(j).probability();
        double q = b.get(i).labels().get(j).probability();
        largest = Math.max(largest, Math.abs(p - q));
      }
    }
    return largest;
  }

  /** The newest version of the default adapter beside the base, or none (the bare base). */
  private static @Nullable AdapterHandle adapter(BaseModel base) throws IOException {
    Path versions = base.dir().resolve("adapters").resolve("protocol");
    if (!Files.isDirectory(versions)) {
      return null;
    }
    try (Stream<Path> list = Files.list(versions)) {
      Path newest =
          list.filter(p -> p.getFileName().toString().matches("\\d+"))
              .max(Comparator.comparingInt(p -> Integer.parseInt(p.getFileName().toString())))
              .orElse(null);
      if (newest == null) {
        return null;
      }
      return base.model()
          .loadAdapter("protocol@" + newest.getFileName(), LoraAdapter.read(newest, base.config()));
    }
  }

  /** The first note of each of the first {@link #NOTES} protocols of the written corpus. */
  private static List<String> notes() throws IOException {
    Path dir = Path.of("data", "corpus", "notes");
    List<String> notes = new ArrayList<>();
    if (Files.isDirectory(dir)) {
      ObjectMapper json = new ObjectMapper();
      try (Stream<Path> files = Files.list(dir)) {
        for (Path f : files.sorted().limit(NOTES).toList()) {
          try (Stream<String> lines = Files.lines(f)) {
            String first = lines.findFirst().orElseThrow();
            JsonNode note = json.readTree(first).get("note");
            notes.add(note.asText());
          }
        }
      }
    }
    while (notes.size() < NOTES) {
      notes.add("67F, sudden severe headache, on apixaban. Rule out bleed. Day " + notes.size());
    }
    return notes;
  }

  private static Path modelDir(Path work) throws IOException {
    String chosen = System.getProperty("protorad.bench.model");
    if (chosen != null) {
      return Path.of(chosen);
    }
    Path demo = Path.of("models", "demo-base");
    if (Files.exists(demo.resolve("config.json"))) {
      return demo;
    }
    Path dir = work.resolve("tiny");
    RandomCheckpoint.builder(RandomCheckpoint.Preset.TINY).seed(1).build().write(dir);
    return dir;
  }
}
