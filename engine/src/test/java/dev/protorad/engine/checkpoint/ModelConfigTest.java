package dev.protorad.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.engine.CheckpointException;
import dev.protorad.engine.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ModelConfigTest {
  static final String MEDITRON =
      "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\","
          + " \"hidden_size\": 4096, \"intermediate_size\": 11008, \"num_hidden_layers\": 32,"
          + " \"num_attention_heads\": 32, \"rms_norm_eps\": 1e-05, \"vocab_size\": 32017,"
          + " \"max_position_embeddings\": 2048, \"tie_word_embeddings\": false,"
          + " \"bos_token_id\": 1, \"eos_token_id\": 2, \"rope_scaling\": null}";

  @TempDir Path dir;

  @Test
  void fromJson_meditron_readsFieldsAndDefaults() {
    ModelConfig c = ModelConfig.fromJson(MEDITRON);

    assertThat(c.vocabSize()).isEqualTo(32017);
    assertThat(c.numKeyValueHeads()).isEqualTo(32);
    assertThat(c.ropeTheta()).isEqualTo(10_000.0);
    assertThat(c.rmsNormEps()).isEqualTo(1e-5);
    assertThat(c.headDim()).isEqualTo(128);
    assertThat(c.tieWordEmbeddings()).isFalse();
  }

  @Test
  void fromJson_gqa_derivesKvDim() {
    ModelConfig c =
        ModelConfig.fromJson(
            MEDITRON.replace(
                "\"num_attention_heads\": 32",
                "\"num_attention_heads\": 32,"
                    + " \"num_key_value_heads\": 8, \"rope_theta\": 500000.0"));

    assertThat(c.kvDim()).isEqualTo(1024);
    assertThat(c.groupSize()).isEqualTo(4);
    assertThat(c.ropeTheta()).isEqualTo(500_000.0);
  }

  @Test
  void toJson_roundTrips() {
    ModelConfig c = ModelConfig.fromJson(MEDITRON);

    assertThat(ModelConfig.fromJson(c.toJson())).isEqualTo(c);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "\"LlamaForCausalLM\"|\"MistralForCausalLM\"|architectures",
        "\"num_attention_heads\": 32|\"num_attention_heads\": 32, \"num_key_value_heads\": 5"
            + "|num_key_value_heads",
        "\"vocab_size\": 32017|\"vocab_size\": 0|vocab_size",
        "\"hidden_size\": 4096|\"hidden_size\": 4000|hidden_size",
        "\"rms_norm_eps\": 1e-05|\"rms_norm_eps\": -1|rms_norm_eps",
        "\"hidden_size\": 4096,|\"hidden_size\": \"big\",|hidden_size",
        "\"rope_scaling\": null|\"rope_scaling\": {\"type\": \"linear\"}|rope_scaling",
        "\"intermediate_size\": 11008,||intermediate_size"
      })
  void fromJson_badField_namesKey(String from, String to, String key) {
    String json = MEDITRON.replace(from, to == null ? "" : to);

    assertThatThrownBy(() -> ModelConfig.fromJson(json))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(key + ":");
  }

  @Test
  void read_missingFile_namesFile() {
    Path missing = dir.resolve("config.json");

    assertThatThrownBy(() -> ModelConfig.read(missing))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("config.json")
        .hasMessageContaining("file not found");
  }

  @Test
  void read_notJson_namesFile() throws Exception {
    Path file = Files.writeString(dir.resolve("config.json"), "{oops");

    assertThatThrownBy(() -> ModelConfig.read(file))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("config.json")
        .hasMessageContaining("not valid JSON");
  }
}
