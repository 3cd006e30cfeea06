package dev.protorad.engine.peft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.Projection;
import dev.protorad.engine.safetensors.DType;
import dev.protorad.engine.safetensors.SafetensorsFile;
import dev.protorad.engine.safetensors.SafetensorsWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoraAdapterTest {
  static final ModelConfig BASE =
      new ModelConfig(64, 160, 2, 4, 2, 1e-5, 10_000.0, 1001, 256, false, 1, 2);

  @TempDir Path dir;

  @Test
  void create_initializesAsPeft() {
    LoraAdapter a = LoraAdapter.create(BASE, LoraConfig.of(8, 16, TargetModules.allLinear()), 1);

    LoraPair down = a.pair(1, Projection.DOWN_PROJ).orElseThrow();
    assertThat(down.b()).containsOnly(0f);
    float bound = (float) (1 / Math.sqrt(160));
    for (float v : down.a()) {
      assertThat(v).isBetween(-bound, bound);
    }
    assertThat(down.in()).isEqualTo(160);
    assertThat(down.out()).isEqualTo(64);
    assertThat(a.pair(0, Projection.K_PROJ).orElseThrow().out()).isEqualTo(32);
    assertThat(a.tensorBytes()).isEqualTo(4L * a.parameters());
    assertThat(LoraAdapter.create(BASE, a.config(), 1).pair(0, Projection.Q_PROJ).orElseThrow().a())
        .isEqualTo(a.pair(0, Projection.Q_PROJ).orElseThrow().a());
  }

  @Test
  void withConfig_keepsTheFactorsUnderAnotherDropout_andRefusesOtherTargetsOrRanks()
      throws Exception {
    LoraConfig config = LoraConfig.of(4, 8, TargetModules.of("q_proj", "v_proj"));
    LoraAdapter a = LoraAdapter.create(BASE, config, new Random(3));
    a.write(dir);

    LoraAdapter b = a.withConfig(config.withDropout(0.2));

    assertThat(LoraAdapter.readConfig(dir)).isEqualTo(config);
    assertThat(b.config().loraDropout()).isEqualTo(0.2);
    assertThat(b.pair(1, Projection.V_PROJ).orElseThrow())
        .isSameAs(a.pair(1, Projection.V_PROJ).orElseThrow());
    assertThatThrownBy(() -> a.withConfig(LoraConfig.of(4, 8, TargetModules.of("q_proj"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("v_proj is not targeted");
    assertThatThrownBy(
            () -> a.withConfig(LoraConfig.of(8, 8, TargetModules.of("q_proj", "v_proj"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("q_proj");
  }

  @Test
  void writeThenRead_givesIdenticalTensors() throws Exception {
    LoraConfig config =
        LoraConfig.of(4, 8, TargetModules.of("q_proj", "v_proj", "down_proj"))
            .withPatterns(Map.of("layers.1.self_attn.v_proj", 2), Map.of())
            .withBaseModel("epfl-llm/meditron-7b");
    LoraAdapter a = LoraAdapter.create(BASE, config, new Random(3));
    fillB(a, 5);

    a.write(dir);
    LoraAdapter back = LoraAdapter.read(dir, BASE);

    assertThat(back.config()).isEqualTo(config);
    for (int i = 0; i < 2; i++) {
      for (Projection p : Projection.values()) {
        assertThat(back.pair(i, p).isPresent()).isEqualTo(a.pair(i, p).isPresent());
        if (a.pair(i, p).isPresent()) {
          assertThat(back.pair(i, p).get().a()).isEqualTo(a.pair(i, p).get().a());
          assertThat(back.pair(i, p).get().b()).isEqualTo(a.pair(i, p).get().b());
        }
      }
    }
    assertThat(back.pair(1, Projection.V_PROJ).orElseThrow().r()).isEqualTo(2);
    assertThat(SafetensorsFile.open(dir.resolve(LoraAdapter.WEIGHTS_FILE)).names())
        .contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
  }

  @Test
  void scaling_isAlphaOverR() {
    LoraConfig c = LoraConfig.of(8, 16, TargetModules.of("q_proj"));

    assertThat(c.scaling(0, Projection.Q_PROJ)).isEqualTo(2.0);
  }

  @Test
  void scaling_rslora_isAlphaOverSqrtR() {
    LoraConfig c = LoraConfig.of(16, 16, TargetModules.of("q_proj")).withRslora(true);

    assertThat(c.scaling(0, Projection.Q_PROJ)).isEqualTo(4.0);
    assertThat(c.withPatterns(Map.of("q_proj", 4), Map.of()).scaling(0, Projection.Q_PROJ))
        .isEqualTo(8.0);
  }

  @Test
  void patterns_matchModuleNameSuffixAsPeft() {
    Map<String, Integer> ranks = new LinkedHashMap<>();
    ranks.put("layers.1.self_attn.q_proj", 2);
    ranks.put("q_proj", 4);
    ranks.put("mlp\\..*_proj", 6);
    Map<String, Double> alphas = Map.of("0.self_attn.v_proj", 32.0);
    LoraConfig c = LoraConfig.of(8, 16, TargetModules.allLinear()).withPatterns(ranks, alphas);

    assertThat(c.rank(1, Projection.Q_PROJ)).isEqualTo(2);
    assertThat(c.rank(0, Projection.Q_PROJ)).isEqualTo(4);
    assertThat(c.rank(0, Projection.UP_PROJ)).isEqualTo(6);
    assertThat(c.rank(0, Projection.K_PROJ)).isEqualTo(8);
    assertThat(c.scaling(1, Projection.Q_PROJ)).isEqualTo(8.0);
    assertThat(c.scaling(0, Projection.V_PROJ)).isEqualTo(4.0);
    assertThat(c.scaling(1, Projection.V_PROJ)).isEqualTo(2.0);
    // "proj" alone is no module-name suffix: PEFT requires a dot (or nothing) before the key.
    assertThat(LoraConfig.patternKey(Map.of("proj", 1), "model.layers.0.mlp.up_proj"))
        .isEqualTo("model.layers.0.mlp.up_proj");
  }

  @Test
  void read_pythonWrittenConfig_honoursPatternsAndRslora() throws Exception {
    LoraAdapter.create(BASE, LoraConfig.of(8, 16, TargetModules.of("q_proj", "o_proj")), 2)
        .write(dir);
    Files.writeString(
        dir.resolve(LoraAdapter.CONFIG_FILE),
        "{\"peft_type\": \"LORA\", \"task_type\": \"CAUSAL_LM\", \"r\": 8, \"lora_alpha\": 16,"
            + " \"target_modules\": [\"o_proj\", \"q_proj\"], \"use_rslora\": true,"
            + " \"rank_pattern\": {}, \"alpha_pattern\": {\"o_proj\": 4},"
            + " \"modules_to_save\": null, \"bias\": \"none\", \"lora_dropout\": 0.05,"
            + " \"base_model_name_or_path\": \"epfl-llm/meditron-7b\"}");

    LoraAdapter a = LoraAdapter.read(dir, BASE);

    assertThat(a.scaling(0, Projection.Q_PROJ)).isCloseTo(16 / Math.sqrt(8), within(1e-12));
    assertThat(a.pair(0, Projection.O_PROJ).orElseThrow().scaling())
        .isEqualTo((float) (4 / Math.sqrt(8)));
    assertThat(a.config().loraDropout()).isEqualTo(0.05);
  }

  @Test
  void read_regexTargets_matchFullModuleName() throws Exception {
    LoraConfig c = LoraConfig.of(2, 4, TargetModules.parse(".*layers\\.1\\..*\\.(q|v)_proj"));

    LoraAdapter a = LoraAdapter.create(BASE, c, 1);
    a.write(dir);

    LoraAdapter back = LoraAdapter.read(dir, BASE);
    assertThat(back.pair(0, Projection.Q_PROJ)).isEmpty();
    assertThat(back.pair(1, Projection.V_PROJ)).isPresent();
    assertThat(Files.readString(dir.resolve(LoraAdapter.CONFIG_FILE)))
        .contains("\"target_modules\" : \".*layers");
  }

  @Test
  void read_modulesToSave_isRefused() throws Exception {
    writeWithConfigEdit("\"modules_to_save\" : null", "\"modules_to_save\" : [\"lm_head\"]");

    assertThatThrownBy(() -> LoraAdapter.read(dir, BASE))
        .isInstanceOf(AdapterException.class)
        .hasMessageContaining("adapter_config.json")
        .hasMessageContaining("modules_to_save");
  }

  @Test
  void read_unknownModule_isRefused() throws Exception {
    writeWithConfigEdit("\"q_proj\"", "\"q_proj\", \"c_attn\"");

    assertThatThrownBy(() -> LoraAdapter.read(dir, BASE))
        .isInstanceOf(AdapterException.class)
        .hasMessageContaining("c_attn");
  }

  @Test
  void read_rankDifferentFromTensors_namesTensorAndShapes() throws Exception {
    writeWithConfigEdit("\"r\" : 4", "\"r\" : 8");

    assertThatThrownBy(() -> LoraAdapter.read(dir, BASE))
        .isInstanceOf(AdapterException.class)
        .hasMessageContaining("lora_A.weight")
        .hasMessageContaining("shape [4, 64] (expected: [8, 64]");
  }

  @Test
  void read_otherBaseShape_isRefused() throws Exception {
    LoraAdapter.create(BASE, LoraConfig.of(4, 8, TargetModules.of("q_proj")), 1).write(dir);
    ModelConfig wider = new ModelConfig(128, 160, 2, 4, 2, 1e-5, 10_000.0, 1001, 256, false, 1, 2);

    assertThatThrownBy(() -> LoraAdapter.read(dir, wider))
        .isInstanceOf(AdapterException.class)
        .hasMessageContaining("expected: [4, 128]");
  }

  @Test
  void read_nan_isRefused() throws Exception {
    LoraAdapter a = LoraAdapter.create(BASE, LoraConfig.of(4, 8, TargetModules.of("q_proj")), 1);
    a.pair(1, Projection.Q_PROJ).orElseThrow().b()[3] = Float.POSITIVE_INFINITY;
    a.write(dir);

    assertThatThrownBy(() -> LoraAdapter.read(dir, BASE))
        .isInstanceOf(AdapterException.class)
        .hasMessageContaining("layers.1.self_attn.q_proj.lora_B.weight")
        .hasMessageContaining("non-finite");
  }

  @Test
  void read_pickle_isRefused() throws Exception {
    LoraAdapter.create(BASE, LoraConfig.of(4, 8, TargetModules.of("q_proj")), 1).write(dir);
    Files.delete(dir.resolve(LoraAdapter.WEIGHTS_FILE));
    Files.write(dir.resolve("adapter_model.bin"), new byte[] {(byte) 0x80, 2, 'c'});

    assertThatThrownBy(() -> LoraAdapter.read(dir, BASE))
        .isInstanceOf(AdapterException.class)
        .hasMessageContaining("adapter_model.bin")
        .hasMessageContaining("pickle");
  }

  @Test
  void read_tensorOutsideTargets_isRefused() throws Exception {
    LoraAdapter.create(BASE, LoraConfig.of(4, 8, TargetModules.of("q_proj")), 1).write(dir);
    Path weights = dir.resolve(LoraAdapter.WEIGHTS_FILE);
    SafetensorsFile f = SafetensorsFile.open(weights);
    SafetensorsWriter w = SafetensorsWriter.create();
    for (String n : f.names()) {
      w.addFloats(n, DType.F32, f.info(n).shape(), f.floats(n));
    }
    w.addFloats("base_model.model.lm_head.weight", DType.F32, new long[] {1}, new float[] {0});
    w.write(weights);

    assertThatThrownBy(() -> LoraAdapter.read(dir, BASE))
        .isInstanceOf(AdapterException.class)
        .hasMessageContaining("base_model.model.lm_head.weight")
        .hasMessageContaining("unexpected tensor");
  }

  @Test
  void read_missingConfig_namesFile() {
    assertThatThrownBy(() -> LoraAdapter.read(dir, BASE))
        .isInstanceOf(AdapterException.class)
        .hasMessageContaining("adapter_config.json")
        .hasMessageContaining("file not found");
  }

  private void writeWithConfigEdit(String from, String to) throws Exception {
    LoraAdapter.create(BASE, LoraConfig.of(4, 8, TargetModules.of("q_proj")), 1).write(dir);
    Path config = dir.resolve(LoraAdapter.CONFIG_FILE);
    String json = Files.readString(config);
    assertThat(json).contains(from);
    Files.writeString(config, json.replace(from, to));
  }

  private static void fillB(LoraAdapter a, long seed) {
    Random r = new Random(seed);
    for (int i = 0; i < a.base().numHiddenLayers(); i++) {
      for (Projection p : Projection.values()) {
        a.pair(i, p)
            .ifPresent(
                pair -> {
                  for (int k = 0; k < pair.b().length; k++) {
                    pair.b()[k] = (float) r.nextGaussian();
                  }
                });
      }
    }
  }
}
