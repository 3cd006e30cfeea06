package dev.protorad.training;

import static java.util.Objects.requireNonNull;

import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.clinical.catalog.Protocol;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.training.data.Example;
import dev.protorad.training.data.Split;
import dev.protorad.training.data.SyntheticDataset;
import java.util.ArrayList;
import java.util.List;

/**
 * The pretraining corpus of the embedded demo base, built only from what the project makes: the
 * catalog (names, modality, region, contrast, indications) and the TRAIN split of the synthetic
 * notes, both as plain notes and as prompt-plus-label documents. Validation and test notes never
 * enter it.
 *
 * @param documents the texts, in a fixed order
 * @param provenance one line per source, for the model card
 */
public record DemoCorpus(List<String> documents, List<String> provenance) {

  /** Copies the lists. */
  public DemoCorpus {
    documents = List.copyOf(requireNonNull(documents, "documents"));
    provenance = List.copyOf(requireNonNull(provenance, "provenance"));
  }

  /** Builds the corpus from {@code catalog} and the training split of {@code dataset}. */
  public static DemoCorpus build(
      Catalog catalog, SyntheticDataset dataset, PromptTemplate template, String datasetSource) {
    requireNonNull(catalog, "catalog");
    requireNonNull(dataset, "dataset");
    requireNonNull(template, "template");
    List<String> docs = new ArrayList<>();
    for (Protocol p : catalog.protocols()) {
      docs.add(catalogLine(p));
      for (String indication : p.indications()) {
        docs.add(template.example(indication, p.name()));
      }
    }
    int catalogDocs = docs.size();
    List<Example> train = dataset.examples(Split.TRAIN);
    for (Example e : train) {
      docs.add(template.example(e.note(), catalog.get(e.label()).name()));
    }
    List<String> provenance =
        List.of(
            catalogDocs
                + " documents from the project catalog (dev/protorad/clinical/catalog/protocols.yaml):"
                + " one description per protocol and one prompt per catalog indication",
            train.size()
                + " prompt+label documents from the TRAIN split of "
                + datasetSource
                + " (validation and test splits excluded)");
    return new DemoCorpus(docs, provenance);
  }

  private static String catalogLine(Protocol p) {
    return "Protocol: "
        + p.name()
        + ". Modality: "
        + p.modality()
        + ". Region: "
        + p.region()
        + ". Contrast: "
        + p.contrast()
        + ". Indications: "
        + String.join("; ", p.indications())
        + ".</s>";
  }
}
