package dev.protorad.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.clinical.catalog.Protocol;
import dev.protorad.engine.model.AdapterHandle;
import dev.protorad.engine.model.BaseModel;
import dev.protorad.engine.model.LabelScorer;
import dev.protorad.engine.model.LabelScores;
import dev.protorad.engine.model.Packing;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.engine.model.ScoreRequest;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.server.adapters.AdapterStore;
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
 * layers and through the LM head, and the largest difference in any label's probability. When the
 * adapter was trained with a label-vocabulary softmax it is also timed as it serves (trie, head
 * over its label vocabulary); padded and trie run its factors against the whole vocabulary.
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
    try (BaseModel base = BaseModel.load(BenchWeights.modelDir(work))) {
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
      LoraAdapter lora = adapter(base);
      try (AdapterHandle whole =
              lora == null
                  ? null
                  : base.model().loadAdapter("whole", lora.withLabelVocabulary(null));
          AdapterHandle restricted =
              lora == null
                  ? null
                  : base.model()
                      .loadAdapter(
                          "label-vocabulary",
                          lora.labelVocabulary().isPresent()
                              ? lora
                              : lora.withLabelVocabulary(trie.labelVocabulary(labels)))) {
        List<String> notes = notes();
        List<ScoreRequest> requests = requests(notes, whole, template);
        work(report, labels, padded, trie, restricted, base.config().vocabSize());
        for (int batch : new int[] {1, NOTES}) {
          List<ScoreRequest> some = requests.subList(0, batch);
          List<ScoreRequest> vocab =
              restricted == null ? null : requests(notes, restricted, template).subList(0, batch);
          measure(report, some, vocab, labels, padded, trie);
        }
        report.row(
            "largest |p(trie) - p(padded)|, all notes and labels (target <= 100)",
            largestDifference(requests, labels, padded, trie) * 1e6,
            "x 1e-6");
        if (restricted != null) {
          report.row(
              "notes whose best label is the same with the label-vocabulary head",
              sameBest(requests, requests(notes, restricted, template), labels, trie),
              "of " + notes.size());
        }
      }
    }
  }

  private static List<ScoreRequest> requests(
      List<String> notes, @Nullable AdapterHandle adapter, PromptTemplate template) {
    List<ScoreRequest> requests = new ArrayList<>();
    for (String note : notes) {
      requests.add(new ScoreRequest(note, adapter, 3, template));
    }
    return requests;
  }

  private static void work(
      BenchReport report,
      List<String> labels,
      LabelScorer padded,
      LabelScorer trie,
      @Nullable AdapterHandle restricted,
      int vocabSize) {
    LabelScorer.LabelWork before = padded.work(labels);
    LabelScorer.LabelWork after = trie.work(labels);
    report.row("labels", labels.size(), "");
    if (restricted != null) {
      report.row(
          "label vocabulary: LM head columns per position",
          restricted.labelVocabulary().orElseThrow().size(),
          "(whole vocabulary: " + vocabSize + ")");
    }
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
      @Nullable List<ScoreRequest> vocabulary,
      List<String> labels,
      LabelScorer padded,
      LabelScorer trie) {
    List<Runnable> paths = new ArrayList<>();
    paths.add(() -> padded.scoreBatch(requests, labels));
    paths.add(() -> trie.scoreBatch(requests, labels));
    if (vocabulary != null) {
      paths.add(() -> trie.scoreBatch(vocabulary, labels));
    }
    double[] t = BenchWeights.interleavedMedians(1, RUNS, paths.toArray(new Runnable[0]));
    int n = requests.size();
    String at = " (batch of " + n + ")";
    report.row("padded: per note" + at, t[0] / n, "ms");
    report.row("trie: per note" + at, t[1] / n, "ms");
    report.ratio("label scoring speed, trie / padded" + at, t[0], t[1], "");
    if (vocabulary != null) {
      report.row("trie + label vocabulary: per note" + at, t[2] / n, "ms");
      report.ratio("label scoring speed, trie + label vocabulary / padded" + at, t[0], t[2], "");
    }
  }

  /** Notes whose best label is the same under both sets of requests. */
  private static int sameBest(
      List<ScoreRequest> a, List<ScoreRequest> b, List<String> labels, LabelScorer scorer) {
    List<LabelScores> x = scorer.scoreBatch(a, labels);
    List<LabelScores> y = scorer.scoreBatch(b, labels);
    int same = 0;
    for (int i = 0; i < x.size(); i++) {
      same += x.get(i).best().label().equals(y.get(i).best().label()) ? 1 : 0;
    }
    return same;
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
  private static @Nullable LoraAdapter adapter(BaseModel base) throws IOException {
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
      return AdapterStore.read(newest, base.config());
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
}
