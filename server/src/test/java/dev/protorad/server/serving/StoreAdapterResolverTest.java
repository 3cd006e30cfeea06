package dev.protorad.server.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.engine.peft.LoraConfig;
import dev.protorad.engine.peft.TargetModules;
import dev.protorad.server.adapters.AdapterRef;
import dev.protorad.server.adapters.AdapterStore;
import dev.protorad.server.adapters.Lineage;
import java.nio.file.Path;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Adapter resolution over the real store and the real model, with the default alias. */
class StoreAdapterResolverTest {

  @TempDir Path dir;
  private ServingModel model;
  private AdapterStore store;
  private StoreAdapterResolver resolver;

  @BeforeEach
  void setUp() throws Exception {
    model = dev.protorad.server.api.TinyModel.shared();
    store = AdapterStore.open(dir, model.config(), model.fingerprint());
    resolver = StoreAdapterResolver.create(store, model.model(), "protocol", 64L << 20);
  }

  private void register(long seed) throws Exception {
    register(seed, PromptTemplate.DEFAULT);
  }

  private void register(long seed, PromptTemplate template) throws Exception {
    LoraConfig config = LoraConfig.of(4, 8, TargetModules.of("q_proj", "v_proj"));
    store.register(
        "protocol",
        LoraAdapter.create(model.config(), config, seed),
        Lineage.imported(template, "test"));
  }

  @Test
  void emptyRef_withoutProductionAlias_isTheBareBase() {
    assertThat(resolver.resolve("")).isEqualTo(ResolvedAdapter.BASE);
  }

  @Test
  void emptyRef_followsTheProductionAliasAsItMoves() throws Exception {
    register(1);
    register(2);
    store.setAlias("protocol", "production", 1);
    assertThat(resolver.resolve("").version()).isEqualTo("protocol@1");

    store.setAlias("protocol", "production", 2);

    assertThat(resolver.resolve("").version()).isEqualTo("protocol@2");
    assertThat(resolver.resolve("protocol@1").version()).isEqualTo("protocol@1");
    assertThat(resolver.loadedCount()).isEqualTo(2);
  }

  @Test
  void eachVersion_resolvesWithTheTemplateItWasTrainedWith() throws Exception {
    register(1, PromptTemplate.V1);
    register(2, PromptTemplate.V2);
    store.setAlias("protocol", "production", 2);

    assertThat(resolver.resolve("protocol@1").template()).isEqualTo(PromptTemplate.V1);
    assertThat(resolver.resolve("protocol@2").template()).isEqualTo(PromptTemplate.V2);
    assertThat(resolver.resolve("").template()).isEqualTo(PromptTemplate.V2);
  }

  @Test
  void aVersionRecordingAnUnknownTemplate_isRefusedNamingIt() throws Exception {
    register(1, new PromptTemplate("v9", PromptTemplate.V1.text(), "</s>"));

    assertThatThrownBy(() -> resolver.resolve("protocol@1"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("protocol@1")
        .hasMessageContaining("v9")
        .hasMessageContaining("[v1, v2]");
  }

  @Test
  void archivedOrUnknownVersions_areNotFound() throws Exception {
    register(1);
    store.archive(AdapterRef.of("protocol", 1));

    assertThatThrownBy(() -> resolver.resolve("protocol@1"))
        .isInstanceOf(NoSuchElementException.class);
    assertThatThrownBy(() -> resolver.resolve("other@3"))
        .isInstanceOf(NoSuchElementException.class);
  }
}
