package dev.protorad.engine.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedSafetensorsTest {
  @TempDir Path dir;

  @Test
  void open_index_readsTensorsFromTheirShards() throws Exception {
    shards();
    index("{\"a\": \"s1.safetensors\", \"b\": \"s2.safetensors\"}");

    TensorSource source = TensorSource.open(dir);

    assertThat(source).isInstanceOf(ShardedSafetensors.class);
    assertThat(source.names()).containsExactly("a", "b");
    assertThat(source.floats("b")).containsExactly(3f);
    assertThat(source.fileOf("b").getFileName().toString()).isEqualTo("s2.safetensors");
  }

  @Test
  void open_indexNamingWrongShard_namesShardAndTensor() throws Exception {
    shards();
    index("{\"a\": \"s1.safetensors\", \"b\": \"s1.safetensors\"}");

    assertThatThrownBy(() -> TensorSource.open(dir))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("s1.safetensors: tensor b")
        .hasMessageContaining("absent from this shard");
  }

  @Test
  void open_indexEscapingDirectory_isRefused() throws Exception {
    shards();
    index("{\"a\": \"../s1.safetensors\"}");

    assertThatThrownBy(() -> TensorSource.open(dir))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("expected: a .safetensors file name in this directory");
  }

  @Test
  void open_missingShard_namesFile() throws Exception {
    index("{\"a\": \"s9.safetensors\"}");

    assertThatThrownBy(() -> TensorSource.open(dir))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("s9.safetensors")
        .hasMessageContaining("file not found");
  }

  @Test
  void open_emptyDirectory_saysWhatIsMissing() {
    assertThatThrownBy(() -> TensorSource.open(dir))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("no model.safetensors or model.safetensors.index.json");
  }

  private void shards() throws Exception {
    SafetensorsWriter.create()
        .addFloats("a", DType.F32, new long[] {2}, new float[] {1, 2})
        .write(dir.resolve("s1.safetensors"));
    SafetensorsWriter.create()
        .addFloats("b", DType.BF16, new long[] {1}, new float[] {3})
        .write(dir.resolve("s2.safetensors"));
  }

  private void index(String weightMap) throws Exception {
    Files.writeString(
        dir.resolve(ShardedSafetensors.INDEX_FILE),
        "{\"metadata\": {\"total_size\": 10}, \"weight_map\": " + weightMap + "}");
  }
}
