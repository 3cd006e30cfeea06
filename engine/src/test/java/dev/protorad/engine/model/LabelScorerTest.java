package dev.protorad.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.peft.LabelVocabulary;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class LabelScorerTest {

  private static final List<String> LABELS =
      List.of(
          "CT Head WO Contrast",
          "CT Head W Contrast",
          "MRI Brain W WO Contrast",
          "CT Abdomen Pelvis W Contrast",
          "XR Chest 2 Views");

  private static final String NOTE = "67F, sudden headache, on anticoagulation. Rule out bleed.";

  private static LlamaModel model;
  private static LlamaTokenizer tokenizer;
  private static LabelScorer scorer;

  @BeforeAll
  static void build() throws Exception {
    model = LlamaModel.builder(TinyWeights.create(21)).build();
    tokenizer = LlamaTokenizer.load(TinyWeights.TOKENIZER);
    scorer = LabelScorer.create(model, tokenizer, PromptTemplate.DEFAULT, 3);
  }

  @AfterAll
  static void close() {
    tokenizer.close();
    model.close();
  }

  @Test
  void tokenizer_encodesLikeLlama() {
    assertThat(tokenizer.encode("Hello world")).containsExactly(1, 15043, 3186);
    assertThat(tokenizer.bosId()).isEqualTo(1);
    assertThat(tokenizer.eosId()).isEqualTo(2);
  }

  @Test
  void score_returnsDistributionSummingToOne_topKSorted() {
    LabelScores scores = scorer.score(NOTE, LABELS, null, 3);

    double total = scores.labels().stream().mapToDouble(RankedLabel::probability).sum();
    assertThat(total).isCloseTo(1.0, within(1e-9));
    assertThat(scores.topK()).hasSize(3);
    assertThat(scores.topK())
        .isSortedAccordingTo((a, b) -> Double.compare(b.probability(), a.probability()));
    assertThat(scores.best().probability())
        .isEqualTo(
            scores.labels().stream().mapToDouble(RankedLabel::probability).max().orElseThrow());
    assertThat(scores.labels()).extracting(RankedLabel::label).containsExactlyElementsOf(LABELS);
    assertThat(scores.templateVersion()).isEqualTo(PromptTemplate.DEFAULT.version());
  }

  @Test
  void score_withTheAdapterTemplate_rendersTheNoteAsThatTemplateDoes() {
    String shouted = "67F, SUDDEN HEADACHE, ON ANTICOAGULATION. RULE OUT BLEED.";
    try (AdapterHandle adapter =
        model.loadAdapter("a@1", TinyWeights.lora(TinyWeights.CONFIG, 6, 4, false))) {
      LabelScores folded = scorer.score(shouted, PromptTemplate.V2, LABELS, adapter, 3);
      LabelScores lowered =
          scorer.score(shouted.toLowerCase(Locale.ROOT), PromptTemplate.V1, LABELS, adapter, 3);
      LabelScores asWritten = scorer.score(shouted, PromptTemplate.V1, LABELS, adapter, 3);

      assertThat(folded.templateVersion()).isEqualTo("v2");
      assertThat(asWritten.templateVersion()).isEqualTo("v1");
      assertThat(folded.promptTokens()).isEqualTo(lowered.promptTokens());
      assertThat(asWritten.promptTokens()).isNotEqualTo(folded.promptTokens());
      for (int j = 0; j < LABELS.size(); j++) {
        assertThat(folded.labels().get(j).logLikelihood())
            .isCloseTo(lowered.labels().get(j).logLikelihood(), within(1e-4));
      }

      List<LabelScores> batch =
          scorer.scoreBatch(
              List.of(
                  new ScoreRequest(shouted, adapter, 3, PromptTemplate.V1),
                  new ScoreRequest(shouted, adapter, 3, PromptTemplate.V2)),
              LABELS);
      assertThat(batch.get(0).promptTokens()).isEqualTo(asWritten.promptTokens());
      assertThat(batch.get(1).promptTokens()).isEqualTo(folded.promptTokens());
      assertThat(batch.get(1).labels().get(0).logLikelihood())
          .isCloseTo(folded.labels().get(0).logLikelihood(), within(1e-4));
    }
  }

  @Test
  void score_withATemplateEndingOtherwise_isRefusedNamingBoth() {
    PromptTemplate other = new PromptTemplate("x1", "Note: {note}\nProtocol: ", "</s>");

    assertThatThrownBy(() -> scorer.score(NOTE, other, LABELS, null, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("x1")
        .hasMessageContaining(PromptTemplate.DEFAULT.version());
    assertThatThrownBy(
            () -> scorer.scoreBatch(List.of(new ScoreRequest(NOTE, null, 3, other)), LABELS))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("x1");
  }

  @Test
  void sharedPrefixScoring_equalsFullForwardPerLabel() {
    try (AdapterHandle adapter =
        model.loadAdapter("a@1", TinyWeights.lora(TinyWeights.CONFIG, 3, 4, false))) {
      for (AdapterHandle a : new AdapterHandle[] {null, adapter}) {
        LabelScores scores = scorer.score(NOTE, LABELS, a, 5);
        for (RankedLabel s : scores.labels()) {
          assertThat(s.logLikelihood())
              .as("%s with %s", s.label(), a)
              .isCloseTo(fullForwardLogLikelihood(s.label(), a), within(1e-3));
        }
      }
    }
  }

  @Test
  void scoreBatch_withMixedAdapters_equalsEachNoteAlone() {
    try (AdapterHandle a =
            model.loadAdapter("a@1", TinyWeights.lora(TinyWeights.CONFIG, 4, 4, false));
        AdapterHandle b =
            model.loadAdapter("b@1", TinyWeights.lora(TinyWeights.CONFIG, 5, 8, false))) {
      List<ScoreRequest> requests =
          List.of(
              new ScoreRequest(NOTE, a, 2),
              new ScoreRequest("knee pain after fall", null, 3),
              new ScoreRequest("follow-up of liver lesion, creatinine 2.1", b, 1));
      // Labels of all notes in one pass (default), and in five passes of one label per note.
      LabelScorer onePass = LabelScorer.create(model, tokenizer, PromptTemplate.DEFAULT);
      for (LabelScorer s : List.of(onePass, scorer)) {
        int before = model.liveArrays();
        List<LabelScores> batch = s.scoreBatch(requests, LABELS);

        assertThat(model.liveArrays()).isEqualTo(before);
        assertThat(batch).hasSize(3);
        for (int i = 0; i < requests.size(); i++) {
          ScoreRequest r = requests.get(i);
          LabelScores alone = scorer.score(r.note(), LABELS, r.adapter(), r.topK());
          assertThat(batch.get(i).topK()).hasSize(r.topK());
          for (int j = 0; j < LABELS.size(); j++) {
            assertThat(batch.get(i).labels().get(j).logLikelihood())
                .as("request %d label %d", i, j)
                .isCloseTo(alone.labels().get(j).logLikelihood(), within(1e-4));
          }
        }
      }
    }
  }

  @Test
  void scoreBatch_ofManyNotes_equalsEachNoteAlone_acrossPassesAndHeadChunks() {
    List<ScoreRequest> requests = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      requests.add(new ScoreRequest(NOTE + " Day " + i + ".", null, 1));
    }
    int slots = 0;
    for (String label : LABELS) {
      slots += requests.size() * (scorer.tokensOf(label).length - 1);
    }
    assertThat(slots).as("label slots of one pass").isGreaterThan(LabelScorer.HEAD_SLOTS);
    // Default: one pass of all 150 rows, its LM head in two calls. labelBatch 3 < 30 notes: each
    // of five passes still holds one label for every note.
    LabelScorer onePass = LabelScorer.create(model, tokenizer, PromptTemplate.DEFAULT);
    for (LabelScorer s : List.of(onePass, scorer)) {
      List<LabelScores> batch = s.scoreBatch(requests, LABELS);

      for (int i = 0; i < requests.size(); i += 7) {
        LabelScores alone = scorer.score(requests.get(i).note(), LABELS, null, 1);
        for (int j = 0; j < LABELS.size(); j++) {
          assertThat(batch.get(i).labels().get(j).logLikelihood())
              .as("note %d label %d", i, j)
              .isCloseTo(alone.labels().get(j).logLikelihood(), within(1e-4));
        }
      }
    }
  }

  /** Labels that share long prefixes, as a catalog's do. */
  private static final List<String> CATALOG_LIKE =
      List.of(
          "CT Head WO Contrast",
          "CT Head W Contrast",
          "CT Head W WO Contrast",
          "CT Abdomen Pelvis W Contrast",
          "CT Abdomen Pelvis WO Contrast",
          "CT Abdomen W Contrast",
          "CTA Chest PE Protocol",
          "CTA Head Neck",
          "MRI Brain W WO Contrast",
          "MRI Brain WO Contrast",
          "MRI Lumbar Spine WO Contrast",
          "MRCP",
          "XR Chest 2 Views",
          "XR Chest 1 View",
          "US Abdomen Complete");

  @Test
  void triePacking_givesThePaddedLogLikelihoods_forMixedAdaptersAndSplitTries() {
    try (AdapterHandle a =
            model.loadAdapter("a@1", TinyWeights.lora(TinyWeights.CONFIG, 4, 4, false));
        AdapterHandle b =
            model.loadAdapter("b@1", TinyWeights.lora(TinyWeights.CONFIG, 5, 8, false))) {
      List<ScoreRequest> requests =
          List.of(
              new ScoreRequest(NOTE, a, 3),
              new ScoreRequest("knee pain after fall, ?fracture", null, 3),
              new ScoreRequest("RUQ pain, LFTs up, ?stone in CBD", b, 3));
      LabelScorer padded =
          LabelScorer.create(model, tokenizer, PromptTemplate.DEFAULT, 512, Packing.PADDED);
      List<LabelScores> expected = padded.scoreBatch(requests, CATALOG_LIKE);
      // One trie in one pass, and (label batch 2: 32 slots, 10 nodes per note) several tries.
      for (int labelBatch : new int[] {512, 2}) {
        LabelScorer trie =
            LabelScorer.create(model, tokenizer, PromptTemplate.DEFAULT, labelBatch, Packing.TRIE);
        int before = model.liveArrays();
        List<LabelScores> actual = trie.scoreBatch(requests, CATALOG_LIKE);

        assertThat(model.liveArrays()).isEqualTo(before);
        for (int i = 0; i < requests.size(); i++) {
          for (int j = 0; j < CATALOG_LIKE.size(); j++) {
            RankedLabel want = expected.get(i).labels().get(j);
            RankedLabel got = actual.get(i).labels().get(j);
            assertThat(got.logLikelihood())
                .as("batch %d note %d label %s", labelBatch, i, want.label())
                .isCloseTo(want.logLikelihood(), within(1e-4));
            assertThat(got.probability()).isCloseTo(want.probability(), within(1e-5));
          }
          assertThat(actual.get(i).topK())
              .extracting(RankedLabel::label)
              .containsExactlyElementsOf(
                  expected.get(i).topK().stream().map(RankedLabel::label).toList());
        }
      }
    }
  }

  @Test
  void triePacking_scoresEachSharedPrefixOnce_andNoPadding() {
    LabelScorer padded =
        LabelScorer.create(model, tokenizer, PromptTemplate.DEFAULT, 512, Packing.PADDED);
    LabelScorer trie =
        LabelScorer.create(model, tokenizer, PromptTemplate.DEFAULT, 512, Packing.TRIE);
    int tokens = 0;
    int longest = 0;
    java.util.Set<String> prefixes = new java.util.HashSet<>();
    for (String label : CATALOG_LIKE) {
      int[] t = scorer.tokensOf(label);
      tokens += t.length;
      longest = Math.max(longest, t.length);
      for (int d = 1; d <= t.length; d++) {
        prefixes.add(java.util.Arrays.toString(java.util.Arrays.copyOf(t, d)));
      }
    }

    LabelScorer.LabelWork paddedWork = padded.work(CATALOG_LIKE);
    LabelScorer.LabelWork trieWork = trie.work(CATALOG_LIKE);

    assertThat(paddedWork.layerTokens()).isEqualTo(CATALOG_LIKE.size() * longest);
    assertThat(paddedWork.headPositions()).isEqualTo(tokens - CATALOG_LIKE.size());
    assertThat(trieWork.layerTokens()).isEqualTo(prefixes.size()).isLessThan(tokens);
    // Every node but the 15 leaves (each label ends in its own </s>) feeds the head.
    assertThat(trieWork.headPositions()).isEqualTo(prefixes.size() - CATALOG_LIKE.size());
  }

  @Test
  void labelVocabularyAdapter_scoresEachTokenAgainstItsVocabularyOnly_inBothPackings() {
    List<int[]> tokens = CATALOG_LIKE.stream().map(scorer::tokensOf).toList();
    LabelVocabulary vocabulary = LabelVocabulary.covering(tokens);
    try (AdapterHandle restricted =
            model.loadAdapter(
                "v@1",
                TinyWeights.loraAdapter(TinyWeights.CONFIG, 4, 4).withLabelVocabulary(vocabulary));
        AdapterHandle full =
            model.loadAdapter("f@1", TinyWeights.loraAdapter(TinyWeights.CONFIG, 4, 4))) {
      assertThat(restricted.labelVocabulary()).contains(vocabulary);
      List<ScoreRequest> requests =
          List.of(new ScoreRequest(NOTE, restricted, 3), new ScoreRequest(NOTE, full, 3));
      for (Packing packing : Packing.values()) {
        LabelScorer s = LabelScorer.create(model, tokenizer, PromptTemplate.DEFAULT, 512, packing);
        List<LabelScores> batch = s.scoreBatch(requests, CATALOG_LIKE);
        for (int j = 0; j < CATALOG_LIKE.size(); j++) {
          String label = CATALOG_LIKE.get(j);
          assertThat(batch.get(0).labels().get(j).logLikelihood())
              .as("%s, %s, label vocabulary", packing, label)
              .isCloseTo(fullForwardLogLikelihood(label, restricted, vocabulary), within(1e-3));
          assertThat(batch.get(1).labels().get(j).logLikelihood())
              .as("%s, %s, whole vocabulary", packing, label)
              .isCloseTo(fullForwardLogLikelihood(label, full, null), within(1e-3));
        }
        // A smaller softmax gives each label token more mass: never less likely.
        assertThat(batch.get(0).labels().get(0).logLikelihood())
            .isGreaterThan(batch.get(1).labels().get(0).logLikelihood());
      }
    }
  }

  @Test
  void labelVocabularyAdapter_refusesALabelWhoseTokensItNeverSaw() {
    LabelVocabulary vocabulary = LabelVocabulary.covering(List.of(scorer.tokensOf(LABELS.get(0))));
    try (AdapterHandle restricted =
        model.loadAdapter(
            "v@2",
            TinyWeights.loraAdapter(TinyWeights.CONFIG, 4, 4).withLabelVocabulary(vocabulary))) {
      assertThatThrownBy(() -> scorer.score(NOTE, LABELS, restricted, 1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("v@2")
          .hasMessageContaining("label vocabulary");
    }
  }

  @Test
  void concurrentScoring_matchesSequential_andReleasesArrays() throws Exception {
    LabelScores expected = scorer.score(NOTE, LABELS, null, 2);
    int before = model.liveArrays();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<LabelScores>> futures = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        futures.add(pool.submit(() -> scorer.score(NOTE, LABELS, null, 2)));
      }
      for (Future<LabelScores> f : futures) {
        LabelScores actual = f.get();
        for (int j = 0; j < LABELS.size(); j++) {
          assertThat(actual.labels().get(j).logLikelihood())
              .isCloseTo(expected.labels().get(j).logLikelihood(), within(1e-4));
        }
      }
    } finally {
      pool.shutdown();
    }
    assertThat(model.liveArrays()).isEqualTo(before);
  }

  @Test
  void labelTokens_endWithEos_andMatchFullTokenization() {
    int[] prompt = tokenizer.encode(PromptTemplate.DEFAULT.render(NOTE));
    int[] label = scorer.tokensOf("CT Head W Contrast");
    int[] full = tokenizer.encode(PromptTemplate.DEFAULT.example(NOTE, "CT Head W Contrast"));

    assertThat(label[label.length - 1]).isEqualTo(2);
    assertThat(concat(prompt, label)).containsExactly(full);
  }

  @Test
  void score_rejectsEmptyLabelsAndBadTopK() {
    assertThatThrownBy(() -> scorer.score(NOTE, List.of(), null, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("labels");
    assertThatThrownBy(() -> scorer.score(NOTE, LABELS, null, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("topK: 0");
  }

  @Test
  void thousandScoringCalls_doNotGrowLiveNativeArrays() {
    // Per-call dequantization: the path whose ops start from weights, where leaks would show.
    // One layer keeps 1,000 calls quick; every op of a layer still runs.
    ModelConfig oneLayer = new ModelConfig(128, 256, 1, 4, 2, 1e-5, 1e4, 32_000, 512, false, 1, 2);
    try (LlamaModel perCall =
            LlamaModel.builder(TinyWeights.create(oneLayer, 22))
                .dequantCache(DequantCache.OFF)
                .build();
        AdapterHandle adapter =
            perCall.loadAdapter("a@1", TinyWeights.lora(oneLayer, 3, 4, false))) {
      LabelScorer s = LabelScorer.create(perCall, tokenizer, PromptTemplate.DEFAULT, 3);
      s.score(NOTE, LABELS, adapter, 1);
      int before = perCall.liveArrays();

      for (int i = 0; i < 1_000; i++) {
        s.score("note " + i, LABELS.subList(0, 2), i % 2 == 0 ? adapter : null, 1);
      }

      assertThat(perCall.liveArrays()).isEqualTo(before);
    }
  }

  private double fullForwardLogLikelihood(String label, AdapterHandle adapter) {
    return fullForwardLogLikelihood(label, adapter, null);
  }

  /** A label's log-likelihood from one full forward pass, softmax over {@code vocabulary}. */
  private double fullForwardLogLikelihood(
      String label, AdapterHandle adapter, LabelVocabulary vocabulary) {
    int[] prompt = tokenizer.encode(PromptTemplate.DEFAULT.render(NOTE));
    int[] tokens = concat(prompt, scorer.tokensOf(label));
    float[][] logits = model.forward(List.of(BatchRow.of(tokens, adapter)), Padding.RIGHT)[0];
    double sum = 0;
    for (int i = prompt.length; i < tokens.length; i++) {
      sum += logSoftmax(logits[i - 1], tokens[i], vocabulary);
    }
    return sum;
  }

  private static double logSoftmax(float[] logits, int index, LabelVocabulary vocabulary) {
    int[] over = vocabulary == null ? null : vocabulary.tokens();
    int n = over == null ? logits.length : over.length;
    double max = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < n; k++) {
      max = Math.max(max, logits[over == null ? k : over[k]]);
    }
    double total = 0;
    for (int k = 0; k < n; k++) {
      total += Math.exp(logits[over == null ? k : over[k]] - max);
    }
    return logits[index] - max - Math.log(total);
  }

  private static int[] concat(int[] a, int[] b) {
    List<Integer> all = new ArrayList<>(LlamaModelTest.boxed(a));
    all.addAll(LlamaModelTest.boxed(b));
    return all.stream().mapToInt(Integer::intValue).toArray();
  }
}
