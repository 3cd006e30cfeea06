package dev.protorad.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.clinical.catalog.Protocol;
import dev.protorad.engine.model.AdapterHandle;
import dev.protorad.engine.model.BaseModel;
import dev.protorad.engine.model.LabelScorer;
import dev.protorad.engine.model.LabelScores;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.engine.model.RankedLabel;
import dev.protorad.server.adapters.AdapterStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code protorad score}: the label distribution for one note, offline, for scripts and for
 * checking the engine against other implementations (same checkpoint, same prompt template).
 */
@Command(
    name = "score",
    mixinStandardHelpOptions = true,
    description =
        "Score every catalog label as the continuation of one note's prompt and print the"
            + " distribution (probability and log-likelihood per label).")
public final class ScoreCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin BaseModelOption model;

  @Option(
      names = "--adapter",
      paramLabel = "DIR",
      description =
          "PEFT adapter directory; the note is prompted with the template its metadata.json"
              + " records (v2 without one; v1 with no adapter, as the demo base was pretrained).")
  Path adapter;

  @Option(names = "--note", required = true, paramLabel = "TEXT", description = "The note.")
  String note;

  @Option(
      names = "--labels",
      paramLabel = "FILE",
      description = "Catalog YAML (default: the built-in catalog).")
  Path labels;

  @Option(names = "--top-k", defaultValue = "5", description = "Labels listed first (default 5).")
  int topK;

  @Option(names = "--json", description = "Print JSON instead of a table.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    if (note.isBlank()) {
      return ExitCodes.usage(spec, "--note: empty (expected: the note text)");
    }
    if (topK < 1) {
      return ExitCodes.usage(spec, "--top-k: " + topK + " (expected: >= 1)");
    }
    Catalog catalog = labels == null ? Catalog.loadDefault() : Catalog.load(labels);
    PromptTemplate template;
    try {
      String recorded = adapter == null ? null : AdapterStore.recordedTemplateVersion(adapter);
      template = PromptTemplate.select(null, recorded, adapter == null);
    } catch (IOException | IllegalArgumentException e) {
      return ExitCodes.usage(spec, "--adapter: " + e.getMessage());
    }
    try (BaseModel base = model.load(spec)) {
      if (base == null) {
        return ExitCodes.USAGE;
      }
      print(catalog, score(base, catalog, template), template);
    }
    return 0;
  }

  private LabelScores score(BaseModel base, Catalog catalog, PromptTemplate template)
      throws IOException {
    List<String> names = catalog.protocols().stream().map(Protocol::name).toList();
    AdapterHandle handle =
        adapter == null
            ? null
            : base.model()
                .loadAdapter(
                    adapter.getFileName().toString(), AdapterStore.read(adapter, base.config()));
    LabelScorer scorer = LabelScorer.create(base.model(), base.tokenizer(), template);
    return scorer.score(note, names, handle, Math.min(topK, names.size()));
  }

  private void print(Catalog catalog, LabelScores scores, PromptTemplate template)
      throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(json(catalog, scores, template));
    } else {
      out.printf(
          "template %s, %d prompt tokens%n", scores.templateVersion(), scores.promptTokens());
      for (RankedLabel s : scores.topK()) {
        Protocol p = catalog.protocols().get(s.index());
        out.printf(
            Locale.ROOT,
            "%8.4f  %10.3f  %-28s %s%n",
            s.probability(),
            s.logLikelihood(),
            p.id(),
            p.name());
      }
    }
    out.flush();
  }

  private static String json(Catalog catalog, LabelScores scores, PromptTemplate template)
      throws IOException {
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = mapper.createObjectNode();
    root.put("template_version", scores.templateVersion());
    root.put("template", template.text());
    root.put("prompt_tokens", scores.promptTokens());
    ObjectNode probabilities = root.putObject("probabilities");
    ObjectNode logLikelihoods = root.putObject("log_likelihoods");
    for (RankedLabel s : scores.labels()) {
      String id = catalog.protocols().get(s.index()).id();
      probabilities.put(id, s.probability());
      logLikelihoods.put(id, s.logLikelihood());
    }
    ArrayNode top = root.putArray("top_k");
    scores.topK().forEach(s -> top.add(catalog.protocols().get(s.index()).id()));
    return mapper.writeValueAsString(root);
  }
}
