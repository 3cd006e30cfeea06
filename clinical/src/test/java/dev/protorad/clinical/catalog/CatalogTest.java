package dev.protorad.clinical.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CatalogTest {

  private static final String TWO =
      """
      protocols:
        - id: ct-head-wo
          name: CT Head WO Contrast
          modality: CT
          region: head
          contrast: none
          indications: [head trauma]
        - id: ct-chest-w
          name: CT Chest W Contrast
          modality: CT
          region: chest
          contrast: iv
          indications: [lung mass]
      rules:
        - when: eGFR below 30
          prefer: [ct-head-wo]
          avoid: [ct-chest-w]
          why: kidney
      """;

  @Test
  void loadDefault_bundledCatalog_has60ProtocolsInCatalogOrder() {
    Catalog catalog = Catalog.loadDefault();

    assertThat(catalog.size()).isEqualTo(60);
    assertThat(catalog.ids()).startsWith("ct-head-wo", "ct-head-w-wo").endsWith("pet-ct-psma");
    assertThat(catalog.rules()).isNotEmpty();
    Protocol p = catalog.get("ct-abdomen-w");
    assertThat(p.name()).isEqualTo("CT Abdomen W Contrast");
    assertThat(p.modality()).isEqualTo(Modality.CT);
    assertThat(p.contrast()).isEqualTo(Contrast.IV);
    assertThat(p.indications()).isNotEmpty();
    assertThat(p.usesIodinatedContrast()).isTrue();
  }

  @Test
  void load_file_readsProtocolsAndRules(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("c.yaml");
    Files.writeString(file, TWO);

    Catalog catalog = Catalog.load(file);

    assertThat(catalog.ids()).containsExactly("ct-head-wo", "ct-chest-w");
    assertThat(catalog.rules())
        .singleElement()
        .satisfies(r -> assertThat(r.avoid()).containsExactly("ct-chest-w"));
    assertThat(catalog.find("nope")).isEmpty();
  }

  @Test
  void parse_duplicateId_namesTheId() {
    String yaml = TWO.replace("id: ct-chest-w", "id: ct-head-wo");

    assertThatThrownBy(() -> Catalog.parse(yaml, "test.yaml"))
        .isInstanceOf(CatalogException.class)
        .hasMessageContaining("duplicate protocol id 'ct-head-wo'")
        .hasMessageContaining("test.yaml");
  }

  @Test
  void parse_duplicateName_namesTheName() {
    String yaml = TWO.replace("name: CT Chest W Contrast", "name: CT Head WO Contrast");

    assertThatThrownBy(() -> Catalog.parse(yaml, "test.yaml"))
        .isInstanceOf(CatalogException.class)
        .hasMessageContaining("duplicate protocol name 'CT Head WO Contrast'");
  }

  @Test
  void parse_unknownRuleId_namesRuleAndId() {
    String yaml = TWO.replace("avoid: [ct-chest-w]", "avoid: [ct-chest-x]");

    assertThatThrownBy(() -> Catalog.parse(yaml, "test.yaml"))
        .isInstanceOf(CatalogException.class)
        .hasMessageContaining("rules[0]")
        .hasMessageContaining("avoid names unknown protocol id 'ct-chest-x'");
  }

  @Test
  void parse_unknownContrast_namesEntryAndAllowedValues() {
    String yaml = TWO.replace("contrast: iv", "contrast: intravenous");

    assertThatThrownBy(() -> Catalog.parse(yaml, "test.yaml"))
        .isInstanceOf(CatalogException.class)
        .hasMessageContaining("id 'ct-chest-w'")
        .hasMessageContaining("contrast: intravenous")
        .hasMessageContaining("none, iv, oral, both, with-and-without");
  }

  @Test
  void parse_missingName_namesTheEntry() {
    String yaml = TWO.replace("    name: CT Chest W Contrast\n", "");

    assertThatThrownBy(() -> Catalog.parse(yaml, "test.yaml"))
        .isInstanceOf(CatalogException.class)
        .hasMessageContaining("protocols[1]")
        .hasMessageContaining("missing 'name'");
  }

  @Test
  void parse_notYaml_failsWithSource() {
    assertThatThrownBy(() -> Catalog.parse("protocols: [", "broken.yaml"))
        .isInstanceOf(CatalogException.class)
        .hasMessageContaining("broken.yaml");
  }

  @Test
  void get_unknownId_namesTheParameter() {
    assertThatThrownBy(() -> Catalog.loadDefault().get("ct-brain"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("id: ct-brain (expected a catalog protocol id)");
  }
}
