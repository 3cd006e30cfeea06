package dev.protorad.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.protorad.engine.CheckpointException;
import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.nf4.Nf4;
import dev.protorad.engine.safetensors.DType;
import dev.protorad.engine.safetensors.SafetensorsException;
import dev.protorad.engine.safetensors.SafetensorsFile;
import dev.protorad.engine.safetensors.SafetensorsWriter;
import dev.protorad.engine.safetensors.ShardedSafetensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BaseCheckpointTest {
  /** Small but with GQA, a vocabulary that is a multiple of nothing, and an untied head. */
  static final ModelConfig SMALL =
      new ModelConfig(128, 320, 2, 4, 2, 1e-5, 10_000.0, 1001, 512, false, 1, 2);

  private static final LoadOptions OPTIONS = LoadOptions.defaults();

  @TempDir Path dir;

  @Test
  void load_f16_quantizesEveryProjectionWithConfigShapes() throws Exception {
    Path model = random(SMALL, DType.F16, 1, "m");

    BaseCheckpoint base = BaseCheckpoint.load(model, OPTIONS);

    assertThat(base.config()).isEqualTo(SMALL);
    assertThat(base.projection(1, Projection.K_PROJ).rows()).isEqualTo(64);
    assertThat(base.projection(1, Projection.DOWN_PROJ).cols()).isEqualTo(320);
    assertThat(base.embedTokens()).hasSize(1001 * 128);
    assertThat(base.tiedEmbeddings()).isFalse();
    assertThat(base.finalNorm()).containsOnly(1f);
    assertThat(base.tokenizerJson()).exists();
    assertThat(base.sourceDtype()).isEqualTo("float16");
    float[] q =
        SafetensorsFile.open(model.resolve("model.safetensors"))
            .floats("model.layers.0.self_attn.q_proj.weight");
    assertThat(base.projection(0, Projection.Q_PROJ)).isEqualTo(Nf4.quantize(q, 128, 128));
  }

  @Test
  void load_sharded_equalsSingleFile() throws Exception {
    Path single = random(SMALL, DType.BF16, 1, "single");
    Path sharded = random(SMALL, DType.BF16, 3, "sharded");

    BaseCheckpoint a = BaseCheckpoint.load(single, OPTIONS);
    BaseCheckpoint b = BaseCheckpoint.load(sharded, OPTIONS.withParallelism(1));

    assertThat(sharded.resolve(ShardedSafetensors.INDEX_FILE)).exists();
    assertThat(sharded.resolve("model-00003-of-00003.safetensors")).exists();
    assertThat(b.fingerprint()).isEqualTo(a.fingerprint());
    assertThat(b.embedTokensF16()).isEqualTo(a.embedTokensF16());
    for (Projection p : Projection.values()) {
      assertThat(b.projection(1, p)).isEqualTo(a.projection(1, p));
    }
  }

  @Test
  void writeQuantized_thenLoad_givesIdenticalBytesWithoutRequantizing() throws Exception {
    BaseCheckpoint fp = BaseCheckpoint.load(random(SMALL, DType.F16, 1, "fp"), OPTIONS);
    Path q1 = dir.resolve("q1");
    fp.writeQuantized(q1);

    BaseCheckpoint loaded = BaseCheckpoint.load(q1, OPTIONS);
    Path q2 = dir.resolve("q2");
    loaded.writeQuantized(q2);

    assertThat(loaded.fingerprint()).isEqualTo(fp.fingerprint());
    assertThat(Files.readAllBytes(q2.resolve("model.safetensors")))
        .isEqualTo(Files.readAllBytes(q1.resolve("model.safetensors")));
    assertThat(Files.readString(q1.resolve("config.json"))).contains("\"bnb_4bit_quant_type\"");
    assertThat(SafetensorsFile.open(q1.resolve("model.safetensors")).names())
        .contains(
            "model.layers.0.mlp.up_proj.weight.absmax",
            "model.layers.0.mlp.up_proj.weight.nested_quant_map",
            "model.layers.0.mlp.up_proj.weight.quant_state.bitsandbytes__nf4");
  }

  @Test
  void memoryReport_countsPackedCodesAndConstants() throws Exception {
    BaseCheckpoint base = BaseCheckpoint.load(random(SMALL, DType.F16, 1, "r"), OPTIONS);

    MemoryReport report = base.memoryReport();

    // 4 + 8/64 + 32/16384 bits, plus the two maps (1,088 bytes) every tensor stores, which
    // weigh a lot at this size and nothing at 7B.
    long params = 2L * (128 * 128 * 2 + 64 * 128 * 2 + 320 * 128 * 3);
    double maps = 14 * (1088 + 4) * 8.0 / params;
    assertThat(report.nf4Parameters()).isEqualTo(params);
    assertThat(report.nf4BitsPerParameter()).isCloseTo(4.127 + maps, within(0.002));
    assertThat(report.format()).contains("nf4 packed codes", "embed_tokens (fp16)");
  }

  @Test
  void memoryReport_estimate_equalsLoadedAndFitsQloraTargetAt7b() throws Exception {
    BaseCheckpoint base = BaseCheckpoint.load(random(SMALL, DType.F16, 1, "est"), OPTIONS);

    MemoryReport llama7b = MemoryReport.estimate(RandomCheckpoint.Preset.LLAMA_2_7B.config());

    assertThat(MemoryReport.estimate(SMALL)).isEqualTo(base.memoryReport());
    assertThat(llama7b.nf4BitsPerParameter()).isCloseTo(4.127, within(0.001));
    assertThat(llama7b.totalBytes()).isLessThan(4_000_000_000L);
  }

  @Test
  void fingerprint_isStableAndSeedSensitive() throws Exception {
    String a = BaseCheckpoint.load(random(SMALL, DType.F16, 1, "a"), OPTIONS).fingerprint();
    String a2 = BaseCheckpoint.load(random(SMALL, DType.F16, 2, "a2"), OPTIONS).fingerprint();
    Path other = dir.resolve("b");
    RandomCheckpoint.builder(SMALL).seed(99).build().write(other);

    assertThat(a).hasSize(64).isEqualTo(a2);
    assertThat(BaseCheckpoint.load(other, OPTIONS).fingerprint()).isNotEqualTo(a);
  }

  @Test
  void load_shapeDifferentFromConfig_namesTensor() throws Exception {
    Path model = random(SMALL, DType.F16, 1, "shape");
    ModelConfig wider = new ModelConfig(128, 384, 2, 4, 2, 1e-5, 10_000.0, 1001, 512, false, 1, 2);
    Files.writeString(model.resolve("config.json"), wider.toJson());

    assertThatThrownBy(() -> BaseCheckpoint.load(model, OPTIONS))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("model.layers.0.mlp.gate_proj.weight")
        .hasMessageContaining("expected: [384, 128]");
  }

  @Test
  void load_nanWeight_namesTensor() throws Exception {
    ModelConfig one = new ModelConfig(64, 128, 1, 2, 2, 1e-5, 10_000.0, 100, 64, true, 1, 2);
    Path model = random(one, DType.F16, 1, "nan");
    SafetensorsFile f = SafetensorsFile.open(model.resolve("model.safetensors"));
    SafetensorsWriter w = SafetensorsWriter.create();
    for (String name : f.names()) {
      float[] v = f.floats(name);
      if (name.equals("model.layers.0.self_attn.v_proj.weight")) {
        v[5] = Float.NaN;
      }
      w.addFloats(name, DType.F16, f.info(name).shape(), v);
    }
    w.write(model.resolve("model.safetensors"));

    assertThatThrownBy(() -> BaseCheckpoint.load(model, OPTIONS))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("model.layers.0.self_attn.v_proj.weight")
        .hasMessageContaining("non-finite value NaN at element 5");
  }

  @Test
  void load_integerProjection_isRefusedNamingDtype() throws Exception {
    ModelConfig one = new ModelConfig(64, 128, 1, 2, 2, 1e-5, 10_000.0, 100, 64, true, 1, 2);
    Path model = random(one, DType.F16, 1, "dtype");
    SafetensorsFile f = SafetensorsFile.open(model.resolve("model.safetensors"));
    SafetensorsWriter w = SafetensorsWriter.create();
    for (String name : f.names()) {
      if (name.equals("model.layers.0.mlp.up_proj.weight")) {
        w.addBytes(name, DType.I16, f.info(name).shape(), f.bytes(name));
      } else {
        w.addBytes(name, DType.F16, f.info(name).shape(), f.bytes(name));
      }
    }
    w.write(model.resolve("model.safetensors"));

    assertThatThrownBy(() -> BaseCheckpoint.load(model, OPTIONS))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("model.layers.0.mlp.up_proj.weight")
        .hasMessageContaining("dtype I16 (expected: F32, F16 or BF16)");
  }

  @Test
  void load_infiniteNorm_namesTensor() throws Exception {
    ModelConfig one = new ModelConfig(64, 128, 1, 2, 2, 1e-5, 10_000.0, 100, 64, true, 1, 2);
    Path model = random(one, DType.F16, 1, "inf");
    SafetensorsFile f = SafetensorsFile.open(model.resolve("model.safetensors"));
    SafetensorsWriter w = SafetensorsWriter.create();
    for (String name : f.names()) {
      float[] v = f.floats(name);
      if (name.equals("model.norm.weight")) {
        v[3] = Float.POSITIVE_INFINITY;
      }
      w.addFloats(name, DType.F16, f.info(name).shape(), v);
    }
    w.write(model.resolve("model.safetensors"));

    assertThatThrownBy(() -> BaseCheckpoint.load(model, OPTIONS))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("model.norm.weight")
        .hasMessageContaining("non-finite value Infinity at element 3");
  }

  @Test
  void load_tiedEmbeddings_sharesHead() throws Exception {
    ModelConfig tied = new ModelConfig(64, 128, 1, 2, 2, 1e-5, 10_000.0, 100, 64, true, 1, 2);

    BaseCheckpoint base = BaseCheckpoint.load(random(tied, DType.F32, 1, "tied"), OPTIONS);

    assertThat(base.tiedEmbeddings()).isTrue();
    assertThat(base.lmHead()).containsExactly(base.embedTokens());
  }

  @Test
  void load_truncatedShard_namesFile() throws Exception {
    Path model = random(SMALL, DType.F16, 2, "trunc");
    Path shard = model.resolve("model-00002-of-00002.safetensors");
    byte[] all = Files.readAllBytes(shard);
    Files.write(shard, java.util.Arrays.copyOf(all, all.length / 2));

    assertThatThrownBy(() -> BaseCheckpoint.load(model, OPTIONS))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("model-00002-of-00002.safetensors")
        .hasMessageContaining("truncated");
  }

  @Test
  void load_pickleOnly_isRefused() throws Exception {
    Path model = random(SMALL, DType.F16, 1, "pickle");
    Files.delete(model.resolve("model.safetensors"));
    Files.write(model.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2});

    assertThatThrownBy(() -> BaseCheckpoint.load(model, OPTIONS))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("pickle");
  }

  @Test
  void load_otherArchitecture_isRefused() throws Exception {
    Path model = random(SMALL, DType.F16, 1, "arch");
    String json = Files.readString(model.resolve("config.json"));
    Files.writeString(model.resolve("config.json"), json.replace("Llama", "Mistral"));

    assertThatThrownBy(() -> BaseCheckpoint.load(model, OPTIONS))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("config.json")
        .hasMessageContaining("architectures");
  }

  @Test
  void load_baseLargerThanHeap_failsBeforeReadingWeights() throws Exception {
    ModelConfig huge =
        new ModelConfig(16384, 53248, 126, 128, 8, 1e-5, 500_000.0, 128_256, 8192, false, 1, 2);
    Path model = Files.createDirectories(dir.resolve("huge"));
    Files.writeString(model.resolve("config.json"), huge.toJson());
    Files.writeString(model.resolve("tokenizer.json"), "{}");

    assertThatThrownBy(() -> BaseCheckpoint.load(model, OPTIONS))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("heap is limited");
  }

  @Test
  void load_missingTokenizer_namesFile() throws Exception {
    Path model = random(SMALL, DType.F16, 1, "tok");
    Files.delete(model.resolve("tokenizer.json"));

    assertThatThrownBy(() -> BaseCheckpoint.load(model, OPTIONS))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining("tokenizer.json");
  }

  @Test
  void randomCheckpoint_tinyPreset_hasLlamaLayout() throws Exception {
    Path out = dir.resolve("tiny");
    RandomCheckpoint.builder(RandomCheckpoint.Preset.TINY).seed(1).shards(2).build().write(out);

    ModelConfig c = ModelConfig.read(out.resolve("config.json"));
    try (Stream<Path> files = Files.list(out)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .contains("tokenizer.json", "tokenizer_config.json", ShardedSafetensors.INDEX_FILE);
    }
    assertThat(c).isEqualTo(RandomCheckpoint.Preset.TINY.config());
    float[] w =
        ShardedSafetensors.open(out.resolve(ShardedSafetensors.INDEX_FILE))
            .floats("model.layers.3.mlp.down_proj.weight");
    double sq = 0;
    for (float v : w) {
      sq += v * v;
    }
    assertThat(Math.sqrt(sq / w.length)).isCloseTo(0.02, within(0.001));
  }

  private Path random(ModelConfig config, DType dtype, int shards, String name) throws Exception {
    Path out = dir.resolve(name);
    RandomCheckpoint.builder(config).dtype(dtype).shards(shards).seed(7).build().write(out);
    return out;
  }
}
