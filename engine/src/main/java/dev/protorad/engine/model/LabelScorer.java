package dev.protorad.engine.model;

import static java.util.Objects.requireNonNull;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import dev.protorad.engine.peft.LabelVocabulary;
import io.opentelemetry.api.trace.Span;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Constrained decoding: the probability of each label of a closed list as the continuation of a
 * note's prompt.
 *
 * <p>Design: one prefill of the prompt fills a batch-1 KV cache; the labels then run in one pass
 * whose attention reads that cache as a shared, broadcast prefix ({@link KvCache}). By default
 * ({@link Packing#TRIE}) the labels' tokens are a trie packed into one row per note under a tree
 * attention mask ({@link LabelTrie}): each shared prefix runs once, nothing is padding, and the LM
 * head runs only at the nodes some label goes on after, once per node however many labels branch
 * there. Each node's attention reads the prompt and its own ancestors, gathered (at most the
 * longest label's length), not every node of the trie under a mask. {@link Packing#PADDED} runs one
 * right-padded row per label instead (the reference the packed pass is checked against). A batch of
 * notes ({@link #scoreBatch}) is prefilled together, and its labels run together too: each pass
 * holds the same labels for every note, and each note's rows read that note's row of the batch
 * cache, so a batch of 8 notes costs two forward passes rather than sixteen. A pass holds at most
 * {@link #DEFAULT_LABEL_BATCH} padded rows, or that many times {@link #SLOTS_PER_ROW} packed slots
 * (the trie is split when the notes need more). A label's log-likelihood is the sum of the
 * log-probabilities of its tokens, suffix ({@code </s>}) included; the distribution is the softmax
 * of those sums over the labels. Label tokens are the tokens the full text {@code anchor + label +
 * suffix} adds after the template's anchor, so they are the same for every note and are cached.
 *
 * <p>Thread-safe; each call runs in its own request scope.
 */
public final class LabelScorer {

  /** Label rows per continuation pass (all notes of a batch together). */
  public static final int DEFAULT_LABEL_BATCH = 512;

  /** Slots a packed pass may hold per row of the label batch: a padded label row's share. */
  public static final int SLOTS_PER_ROW = 16;

  /** Stands for the middle of a note too long for the context (see {@link #score}). */
  public static final String ELISION = "\n[...]\n";

  private static final int MAX_CACHED_LABELS = 100_000;
  private static final int MIN_NOTE_TOKENS = 32;
  private static final int MAX_FIT_ATTEMPTS = 20;

  /** Label slots per LM-head call (bounds the FP32 logits held at once). */
  static final int HEAD_SLOTS = 1024;

  private final LlamaModel model;
  private final LlamaTokenizer tokenizer;
  private final PromptTemplate template;
  private final int labelBatch;
  private final Packing packing;
  private final int[] anchorTokens;
  private final Map<String, int[]> labelTokens = new ConcurrentHashMap<>();

  private LabelScorer(
      LlamaModel model,
      LlamaTokenizer tokenizer,
      PromptTemplate template,
      int labelBatch,
      Packing packing) {
    this.model = model;
    this.tokenizer = tokenizer;
    this.template = template;
    this.labelBatch = labelBatch;
    this.packing = packing;
    this.anchorTokens = tokenizer.encode(template.anchor());
  }

  /** A scorer with the default label batch. */
  public static LabelScorer create(
      LlamaModel model, LlamaTokenizer tokenizer, PromptTemplate template) {
    return create(model, tokenizer, template, DEFAULT_LABEL_BATCH);
  }

  /**
   * A scorer running at most {@code labelBatch} label rows per forward pass ({@link Packing#TRIE}
   * passes hold at most {@code labelBatch * }{@link #SLOTS_PER_ROW} slots).
   */
  public static LabelScorer create(
      LlamaModel model, LlamaTokenizer tokenizer, PromptTemplate template, int labelBatch) {
    return create(model, tokenizer, template, labelBatch, Packing.TRIE);
  }

  /** As {@link #create(LlamaModel, LlamaTokenizer, PromptTemplate, int)}, laid out as named. */
  public static LabelScorer create(
      LlamaModel model,
      LlamaTokenizer tokenizer,
      PromptTemplate template,
      int labelBatch,
      Packing packing) {
    requireNonNull(model, "model");
    requireNonNull(tokenizer, "tokenizer");
    requireNonNull(template, "template");
    requireNonNull(packing, "packing");
    if (labelBatch < 1) {
      throw new IllegalArgumentException("labelBatch: " + labelBatch + " (expected: >= 1)");
    }
    return new LabelScorer(model, tokenizer, template, labelBatch, packing);
  }

  /**
   * The tokens of {@code labels} as this scorer takes them (after the template's anchor, suffix
   * included): the label vocabulary an adapter trained on these labels is scored against.
   */
  public LabelVocabulary labelVocabulary(List<String> labels) {
    return LabelVocabulary.covering(continuationsOf(labels));
  }

  /** How this scorer lays out its label passes. */
  public Packing packing() {
    return packing;
  }

  /**
   * The tokens that run through the model's layers and through its LM head to score {@code labels}
   * after one note, under this scorer's packing (the prompt's own tokens left out).
   */
  public LabelWork work(List<String> labels) {
    List<int[]> continuations = continuationsOf(labels);
    if (packing == Packing.PADDED) {
      int longest = 0;
      int head = 0;
      for (int[] c : continuations) {
        longest = Math.max(longest, c.length);
        head += c.length - 1;
      }
      return new LabelWork(continuations.size() * longest, head);
    }
    int layers = 0;
    int head = 0;
    for (LabelTrie trie : LabelTrie.partition(continuations, Integer.MAX_VALUE)) {
      layers += trie.size();
      for (int n = 0; n < trie.size(); n++) {
        head += trie.hasChildren(n) ? 1 : 0;
      }
    }
    return new LabelWork(layers, head);
  }

  /**
   * Label tokens per note through the layers and positions through the LM head.
   *
   * @param layerTokens slots of the continuation passes (padding included)
   * @param headPositions positions whose logits are computed over the whole vocabulary
   */
  public record LabelWork(int layerTokens, int headPositions) {}

  /** The template labels are tokenized after, and notes rendered with unless a call names one. */
  public PromptTemplate template() {
    return template;
  }

  /**
   * Scores every label as the continuation of {@code note}'s prompt.
   *
   * @param adapter the adapter to run with, or null for the bare base
   * @param topK how many labels {@link LabelScores#topK} holds (capped at the number of labels)
   * @throws IllegalArgumentException for no labels, a blank label, or {@code topK < 1}. A note
   *     whose prompt and longest label exceed the model's context keeps its head and tail (the
   *     middle becomes {@link #ELISION}) and its result says {@link LabelScores#truncated}
   */
  public LabelScores score(
      String note, List<String> labels, @Nullable AdapterHandle adapter, int topK) {
    return score(note, template, labels, adapter, topK);
  }

  /**
   * As {@link #score(String, List, AdapterHandle, int)}, with the note rendered by {@code
   * noteTemplate}: the template the adapter was trained with.
   *
   * @throws IllegalArgumentException also when {@code noteTemplate} does not end its prompts as
   *     this scorer's template does (labels would tokenize differently after it)
   */
  public LabelScores score(
      String note,
      PromptTemplate noteTemplate,
      List<String> labels,
      @Nullable AdapterHandle adapter,
      int topK) {
    requireNonNull(note, "note");
    PromptTemplate rendering = compatible(noteTemplate);
    requireNonNull(labels, "labels");
    if (labels.isEmpty()) {
      throw new IllegalArgumentException("labels: empty (expected: at least one)");
    }
    if (topK < 1) {
      throw new IllegalArgumentException("topK: " + topK + " (expected: >= 1)");
    }
    List<int[]> continuations = continuationsOf(labels);
    Prompt prompt = prompt(note, rendering, continuations);
    // Phase marks on the caller's span (the predictor's "score"); no attributes, so no note text.
    Span.current().addEvent("tokenized");
    double[] logLikelihoods =
        batchLogLikelihoods(List.of(prompt.tokens()), Arrays.asList(adapter), continuations)[0];
    return scores(labels, logLikelihoods, topK, prompt, rendering);
  }

  /**
   * Scores several notes, each with its own adapter, against the same labels. The prompts are
   * prefilled as one mixed-adapter batch (base projections once for all rows, each row's LoRA delta
   * from its adapter); each note's labels then run over its row of that cache.
   *
   * @return one result per request, in order
   * @throws IllegalArgumentException as {@link #score}
   */
  public List<LabelScores> scoreBatch(List<ScoreRequest> requests, List<String> labels) {
    requireNonNull(requests, "requests");
    requireNonNull(labels, "labels");
    if (requests.isEmpty()) {
      return List.of();
    }
    if (labels.isEmpty()) {
      throw new IllegalArgumentException("labels: empty (expected: at least one)");
    }
    List<int[]> continuations = continuationsOf(labels);
    List<Prompt> fitted = new ArrayList<>(requests.size());
    List<int[]> prompts = new ArrayList<>(requests.size());
    for (ScoreRequest r : requests) {
      Prompt prompt = prompt(r.note(), templateOf(r), continuations);
      fitted.add(prompt);
      prompts.add(prompt.tokens());
    }
    List<@Nullable AdapterHandle> adapters = new ArrayList<>(requests.size());
    for (ScoreRequest r : requests) {
      adapters.add(r.adapter());
    }
    double[][] logLikelihoods = batchLogLikelihoods(prompts, adapters, continuations);
    List<LabelScores> out = new ArrayList<>(requests.size());
    for (int i = 0; i < requests.size(); i++) {
      ScoreRequest r = requests.get(i);
      out.add(scores(labels, logLikelihoods[i], r.topK(), fitted.get(i), templateOf(r)));
    }
    return out;
  }

  /**
   * Every label's log-likelihood after each prompt: one prefill of all the prompts (each row with
   * its adapter), then the labels over that cache. A note whose adapter has a label vocabulary
   * scores each label token against that vocabulary only.
   */
  private double[][] batchLogLikelihoods(
      List<int[]> prompts, List<@Nullable AdapterHandle> adapters, List<int[]> continuations) {
    List<BatchRow> rows = new ArrayList<>(prompts.size());
    @Nullable LabelVocabulary[] vocabularies = new LabelVocabulary[prompts.size()];
    for (int i = 0; i < prompts.size(); i++) {
      AdapterHandle adapter = adapters.get(i);
      rows.add(BatchRow.of(prompts.get(i), adapter));
      vocabularies[i] = vocabularyOf(adapter, continuations);
    }
    try (NDManager request = model.newRequestManager()) {
      StepInput in = StepInput.padded(prompts, 0, Padding.RIGHT);
      KvCache cache = KvCache.allocate(model.config(), in.batch(), in.length(), request, null);
      NDArray h = model.hidden(in, cache, model.lora(rows, in.length()), request);
      float[] flat = model.logits(model.lastHidden(h, in)).logSoftmax(1).toFloatArray();
      Span.current().addEvent("prefilled");
      float[][] first = LlamaModel.rowsOf(flat, in.batch(), model.config().vocabSize());
      int notes = prompts.size();
      Pass pass = new Pass(new int[notes], first, cache, adapters, vocabularies);
      for (int i = 0; i < notes; i++) {
        pass.lengths()[i] = prompts.get(i).length;
        restrict(first[i], vocabularies[i]);
      }
      double[][] out = new double[notes][continuations.size()];
      if (packing == Packing.TRIE) {
        packed(pass, continuations, request, out);
        return out;
      }
      // The same labels for every note in each pass, at most labelBatch rows in all.
      int perNote = Math.max(1, Math.min(continuations.size(), labelBatch / notes));
      for (int from = 0; from < continuations.size(); from += perNote) {
        int to = Math.min(continuations.size(), from + perNote);
        try (NDManager chunk = request.newSubManager()) {
          double[][] part = padded(pass, continuations.subList(from, to), chunk);
          for (int i = 0; i < notes; i++) {
            System.arraycopy(part[i], 0, out[i], from, to - from);
          }
        }
      }
      return out;
    }
  }

  /**
   * What every continuation pass of a batch reads: each note's prompt length, the log-probabilities
   * of each note's first label token, the prompts' cache, and each note's adapter and vocabulary.
   */
  private record Pass(
      int[] lengths,
      float[][] first,
      KvCache prompts,
      List<@Nullable AdapterHandle> adapters,
      @Nullable LabelVocabulary[] vocabularies) {
    int notes() {
      return lengths.length;
    }
  }

  /**
   * The label vocabulary {@code adapter} was trained with, if any.
   *
   * @throws IllegalArgumentException when a label token is not in it
   */
  private @Nullable LabelVocabulary vocabularyOf(
      @Nullable AdapterHandle adapter, List<int[]> continuations) {
    if (adapter == null || adapter.labelVocabulary().isEmpty()) {
      return null;
    }
    LabelVocabulary vocabulary = adapter.labelVocabulary().get();
    for (int[] tokens : continuations) {
      for (int t : tokens) {
        if (vocabulary.indexOf(t) < 0) {
          throw new IllegalArgumentException(
              "adapter "
                  + adapter.id()
                  + ": label token "
                  + t
                  + " is not in the label vocabulary it was trained with (a label it never saw)");
        }
      }
    }
    return vocabulary;
  }

  /**
   * Renormalizes {@code logProbs} (a log-softmax over the whole vocabulary) over {@code
   * vocabulary}'s tokens, in place; the other tokens get negative infinity. Null leaves it as is.
   */
  private static void restrict(float[] logProbs, @Nullable LabelVocabulary vocabulary) {
    if (vocabulary == null) {
      return;
    }
    int[] tokens = vocabulary.tokens();
    double max = Double.NEGATIVE_INFINITY;
    for (int t : tokens) {
      max = Math.max(max, logProbs[t]);
    }
    double sum = 0;
    for (int t : tokens) {
      sum += Math.exp(logProbs[t] - max);
    }
    float logZ = (float) (max + Math.log(sum));
    float[] kept = new float[tokens.length];
    for (int i = 0; i < tokens.length; i++) {
      kept[i] = logProbs[tokens[i]] - logZ;
    }
    Arrays.fill(logProbs, Float.NEGATIVE_INFINITY);
    for (int i = 0; i < tokens.length; i++) {
      logProbs[tokens[i]] = kept[i];
    }
  }

  /**
   * {@link Packing#TRIE}: the labels as tries of at most {@code labelBatch * SLOTS_PER_ROW / notes}
   * nodes, each trie one pass of one packed row per note; fills {@code out[note][label]}.
   */
  private void packed(Pass pass, List<int[]> continuations, NDManager request, double[][] out) {
    int maxNodes = Math.max(1, labelBatch * SLOTS_PER_ROW / pass.notes());
    for (LabelTrie trie : LabelTrie.partition(continuations, maxNodes)) {
      try (NDManager chunk = request.newSubManager()) {
        double[][] nodes = nodeLogLikelihoods(trie, pass, chunk);
        int[] labels = trie.labels();
        for (int i = 0; i < pass.notes(); i++) {
          for (int l = 0; l < labels.length; l++) {
            out[i][labels[l]] = nodes[i][trie.leaf(l)];
          }
        }
      }
    }
  }

  /**
   * For each note and node of {@code trie}: the log-likelihood of the node's tokens from the trie's
   * root to the node, after the note's prompt. One pass; the LM head runs at the nodes that have
   * children, and each child reads its token's log-probability there.
   */
  private double[][] nodeLogLikelihoods(LabelTrie trie, Pass pass, NDManager chunk) {
    int notes = pass.notes();
    int size = trie.size();
    StepInput in = StepInput.packed(trie, pass.lengths());
    KvCache cache = KvCache.allocate(model.config(), notes, size, chunk, pass.prompts());
    LoraBatch lora = LoraBatch.of(pass.adapters(), model.loraStrategy(), size);
    NDArray h = model.hidden(in, cache, lora, chunk);
    Edges edges = Edges.of(trie, notes);
    float[] picked = picked(h, edges, pass.vocabularies(), chunk);
    double[][] step = new double[notes][size];
    for (int e = 0; e < picked.length; e++) {
      step[edges.note(e)][edges.items()[e]] = picked[e];
    }
    double[][] out = new double[notes][size];
    for (int i = 0; i < notes; i++) {
      for (int n = 0; n < size; n++) {
        int parent = trie.parent(n);
        // A parent comes before its children, so its sum is complete here.
        out[i][n] = parent < 0 ? pass.first()[i][trie.token(n)] : out[i][parent] + step[i][n];
      }
    }
    return out;
  }

  /**
   * {@link Packing#PADDED}: log-likelihoods of {@code labels} after each note of a batch, one
   * right-padded row per note and label; note {@code i}'s rows read row {@code i} of the prompts'
   * cache from position {@code lengths[i]}, with its own adapter.
   */
  private double[][] padded(Pass pass, List<int[]> labels, NDManager chunk) {
    int notes = pass.notes();
    int n = labels.size();
    List<int[]> rows = new ArrayList<>(notes * n);
    List<@Nullable AdapterHandle> rowAdapters = new ArrayList<>(notes * n);
    int[] offsets = new int[notes * n];
    double[][] out = new double[notes][n];
    for (int i = 0; i < notes; i++) {
      for (int j = 0; j < n; j++) {
        rows.add(labels.get(j));
        rowAdapters.add(pass.adapters().get(i));
        offsets[i * n + j] = pass.lengths()[i];
        out[i][j] = pass.first()[i][labels.get(j)[0]];
      }
    }
    StepInput in = StepInput.padded(rows, offsets, Padding.RIGHT);
    KvCache cache =
        KvCache.allocate(model.config(), in.batch(), in.length(), chunk, pass.prompts());
    LoraBatch lora = LoraBatch.of(rowAdapters, model.loraStrategy(), in.length());
    NDArray h = model.hidden(in, cache, lora, chunk);
    Edges edges = Edges.ofRows(rows, in.length(), n);
    float[] picked = picked(h, edges, pass.vocabularies(), chunk);
    for (int e = 0; e < picked.length; e++) {
      out[edges.note(e)][edges.items()[e]] += picked[e];
    }
    return out;
  }

  /**
   * The log-probability of each edge's target at its head position. The LM head runs once per head
   * position, at most {@link #HEAD_SLOTS} positions per call and one note's vocabulary per call:
   * the whole vocabulary, or the note's label vocabulary. (A batch of 8 notes has thousands of head
   * positions, whose FP32 logits over a 32,000-token vocabulary would take 0.5 GB at once.)
   */
  private float[] picked(
      NDArray h, Edges edges, @Nullable LabelVocabulary[] vocabularies, NDManager chunk) {
    float[] picked = new float[edges.targets().length];
    if (picked.length == 0) {
      return picked;
    }
    NDArray flat = h.reshape(-1, model.config().hiddenSize());
    long[] heads = edges.heads();
    int e = 0;
    int from = 0;
    while (from < heads.length) {
      LabelVocabulary vocabulary = vocabularies[edges.noteOfHead()[from]];
      int to = from + 1;
      while (to < heads.length
          && to - from < HEAD_SLOTS
          && Objects.equals(vocabularies[edges.noteOfHead()[to]], vocabulary)) {
        to++;
      }
      int first = e;
      while (e < picked.length && edges.head()[e] < to) {
        e++;
      }
      try (NDManager head = chunk.newSubManager()) {
        NDArray states =
            flat.get(head, new NDIndex("{}", head.create(Arrays.copyOfRange(heads, from, to))));
        NDArray logits =
            vocabulary == null ? model.logits(states) : model.logits(states, vocabulary);
        long width = vocabulary == null ? model.config().vocabSize() : vocabulary.size();
        long[] at = new long[e - first];
        for (int k = first; k < e; k++) {
          long target = edges.targets()[k];
          long column = vocabulary == null ? target : vocabulary.indexOf((int) target);
          at[k - first] = (edges.head()[k] - from) * width + column;
        }
        NDArray logProbs = logits.logSoftmax(1).reshape(-1);
        float[] part = logProbs.get(new NDIndex("{}", head.create(at))).toFloatArray();
        System.arraycopy(part, 0, picked, first, part.length);
      }
      from = to;
    }
    return picked;
  }

  /**
   * The LM-head work of a pass, note-major: {@code heads} are the flat slots whose logits are
   * needed ({@code noteOfHead}: the note of each), and edge {@code e} reads head {@code head[e]}
   * (ascending) at token {@code targets[e]}, for item {@code items[e]} of that head's note (a trie
   * node, or a label of a padded pass).
   */
  private record Edges(long[] heads, int[] noteOfHead, int[] head, long[] targets, int[] items) {

    /** The note edge {@code e} belongs to. */
    int note(int e) {
      return noteOfHead[head[e]];
    }

    /** A packed pass: one head per note and node with children, one edge per child. */
    static Edges of(LabelTrie trie, int notes) {
      int size = trie.size();
      List<List<Integer>> kids = new ArrayList<>(size);
      for (int n = 0; n < size; n++) {
        kids.add(new ArrayList<>());
      }
      int parents = 0;
      int roots = 0;
      for (int n = 0; n < size; n++) {
        int parent = trie.parent(n);
        if (parent < 0) {
          roots++;
        } else {
          parents += kids.get(parent).isEmpty() ? 1 : 0;
          kids.get(parent).add(n);
        }
      }
      Builder b = new Builder(notes * parents, notes * (size - roots));
      for (int i = 0; i < notes; i++) {
        for (int n = 0; n < size; n++) {
          if (!kids.get(n).isEmpty()) {
            b.head((long) i * size + n, i);
            for (int c : kids.get(n)) {
              b.edge(trie.token(c), c);
            }
          }
        }
      }
      return b.build();
    }

    /**
     * A padded pass of {@code rows} ({@code labels} per note, each as long as its label): one head
     * per slot whose next token belongs to the row's label (not pads, not the last).
     */
    static Edges ofRows(List<int[]> rows, int length, int labels) {
      int n = 0;
      for (int[] tokens : rows) {
        n += tokens.length - 1;
      }
      Builder b = new Builder(n, n);
      for (int r = 0; r < rows.size(); r++) {
        int[] tokens = rows.get(r);
        for (int j = 0; j + 1 < tokens.length; j++) {
          b.head((long) r * length + j, r / labels);
          b.edge(tokens[j + 1], r % labels);
        }
      }
      return b.build();
    }

    private static final class Builder {
      final long[] heads;
      final int[] noteOfHead;
      final int[] head;
      final long[] targets;
      final int[] items;
      int h;
      int e;

      Builder(int heads, int edges) {
        this.heads = new long[heads];
        this.noteOfHead = new int[heads];
        this.head = new int[edges];
        this.targets = new long[edges];
        this.items = new int[edges];
      }

      void head(long slot, int note) {
        heads[h] = slot;
        noteOfHead[h] = note;
        h++;
      }

      void edge(int token, int item) {
        head[e] = h - 1;
        targets[e] = token;
        items[e] = item;
        e++;
      }

      Edges build() {
        return new Edges(heads, noteOfHead, head, targets, items);
      }
    }
  }

  private List<int[]> continuationsOf(List<String> labels) {
    List<int[]> continuations = new ArrayList<>(labels.size());
    for (String label : labels) {
      continuations.add(tokensOf(label));
    }
    return continuations;
  }

  /** The tokens {@code label + suffix} adds after the template's anchor (cached). */
  int[] tokensOf(String label) {
    requireNonNull(label, "label");
    if (label.isBlank()) {
      throw new IllegalArgumentException("label: blank (expected: text)");
    }
    int[] cached = labelTokens.get(label);
    if (cached != null) {
      return cached;
    }
    int[] full = tokenizer.encode(template.anchor() + label + template.labelSuffix());
    if (full.length <= anchorTokens.length
        || !Arrays.equals(full, 0, anchorTokens.length, anchorTokens, 0, anchorTokens.length)) {
      throw new IllegalStateException(
          "template anchor does not end on a token boundary before label: " + label);
    }
    int[] tokens = Arrays.copyOfRange(full, anchorTokens.length, full.length);
    if (labelTokens.size() < MAX_CACHED_LABELS) {
      labelTokens.put(label, tokens);
    }
    return tokens;
  }

  /** A note's prompt tokens, and whether the note had to be cut to fit the context. */
  private record Prompt(int[] tokens, boolean truncated) {}

  /**
   * The prompt of {@code note}; when it and the longest label exceed the model's context, the
   * note's head and tail are kept (halves of the characters that fit) around {@link #ELISION}.
   */
  private Prompt prompt(String note, PromptTemplate rendering, List<int[]> continuations) {
    int longest = 0;
    for (int[] c : continuations) {
      longest = Math.max(longest, c.length);
    }
    int limit = model.config().maxPositionEmbeddings() - longest;
    int[] whole = tokenizer.encode(rendering.render(note));
    if (whole.length <= limit) {
      return new Prompt(whole, false);
    }
    int fixed = tokenizer.encode(rendering.render(ELISION)).length;
    if (limit - fixed < MIN_NOTE_TOKENS) {
      throw new IllegalArgumentException(
          "labels: "
              + longest
              + " label tokens leave too little of the context ("
              + model.config().maxPositionEmbeddings()
              + ") for a note");
    }
    double chars = (double) note.length() * (limit - fixed) / whole.length;
    for (int attempt = 0; attempt < MAX_FIT_ATTEMPTS; attempt++) {
      int keep = Math.max(2, (int) chars);
      String cut = headAndTail(note, keep);
      int[] tokens = tokenizer.encode(rendering.render(cut));
      if (tokens.length <= limit) {
        return new Prompt(tokens, true);
      }
      chars = chars * 0.95 * (limit - fixed) / Math.max(1, tokens.length - fixed);
    }
    throw new IllegalStateException("could not fit the note into the context");
  }

  /** The first and last {@code keep / 2} characters of {@code note}, around {@link #ELISION}. */
  static String headAndTail(String note, int keep) {
    int head = keep / 2;
    int tail = note.length() - (keep - head);
    if (head > 0 && Character.isHighSurrogate(note.charAt(head - 1))) {
      head--;
    }
    if (tail < note.length() && Character.isLowSurrogate(note.charAt(tail))) {
      tail++;
    }
    return note.substring(0, head) + ELISION + note.substring(tail);
  }

  private PromptTemplate templateOf(ScoreRequest r) {
    return r.template() == null ? template : compatible(r.template());
  }

  private PromptTemplate compatible(PromptTemplate noteTemplate) {
    requireNonNull(noteTemplate, "noteTemplate");
    if (!noteTemplate.sharesLabelsWith(template)) {
      throw new IllegalArgumentException(
          "prompt template "
              + noteTemplate.version()
              + ": its prompts end differently from "
              + template.version()
              + "'s, which this scorer's labels are tokenized after");
    }
    return noteTemplate;
  }

  private LabelScores scores(
      List<String> labels,
      double[] logLikelihoods,
      int topK,
      Prompt prompt,
      PromptTemplate rendering) {
    double max = Double.NEGATIVE_INFINITY;
    for (double ll : logLikelihoods) {
      max = Math.max(max, ll);
    }
    double total = 0;
    double[] weights = new double[logLikelihoods.length];
    for (int i = 0; i < weights.length; i++) {
      weights[i] = Math.exp(logLikelihoods[i] - max);
      total += weights[i];
    }
    List<RankedLabel> all = new ArrayList<>(labels.size());
    for (int i = 0; i < weights.length; i++) {
      all.add(new RankedLabel(i, labels.get(i), weights[i] / total, logLikelihoods[i]));
    }
    List<RankedLabel> ranked = new ArrayList<>(all);
    ranked.sort(
        Comparator.comparingDouble(RankedLabel::probability)
            .reversed()
            .thenComparingInt(RankedLabel::index));
    return new LabelScores(
        all,
        ranked.subList(0, Math.min(topK, ranked.size())),
        prompt.tokens().length,
        rendering.version(),
        prompt.truncated());
  }
}
