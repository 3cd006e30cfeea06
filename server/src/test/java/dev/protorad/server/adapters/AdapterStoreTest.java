package dev.protorad.server.adapters;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.engine.peft.AdapterException;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.engine.peft.LoraConfig;
import dev.protorad.engine.peft.TargetModules;
import dev.protorad.engine.safetensors.DType;
import dev.protorad.engine.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdapterStoreTest {

  static final ModelConfig BASE = ModelConfig.of(64, 128, 2, 2, 2, 1000, 128, true);
  static final LoraConfig LORA = LoraConfig.of(4, 8, TargetModules.of("q_proj", "v_proj"));

  static LoraAdapter adapter(long seed) {
    return LoraAdapter.create(BASE, LORA, seed);
  }

  static Lineage lineage() {
    return new Lineage(
        "abc",
        Map.of("rank", "4"),
        PromptTemplate.DEFAULT,
        Map.of("test.accuracy", 0.9),
        "alice",
        "ft-1");
  }

  static AdapterStore open(Path dir) throws IOException {
    return AdapterStore.open(dir, BASE, "fp-1");
  }

  @Test
  void register_numbersVersionsFromOne_andRecordsLineage(@TempDir Path dir) throws Exception {
    AdapterStore store = open(dir);

    AdapterVersion v1 = store.register("chest-ct", adapter(1), lineage());
    AdapterVersion v2 = store.register("chest-ct", adapter(2), lineage());

    assertThat(v1.ref()).isEqualTo("chest-ct@1");
    assertThat(v2.ref()).isEqualTo("chest-ct@2");
    assertThat(v1.dir().resolve("adapter_config.json")).exists();
    assertThat(v1.dir().resolve("adapter_model.safetensors")).exists();
    AdapterMetadata m = store.get(AdapterRef.parse("chest-ct@1")).metadata();
    assertThat(m.baseFingerprint()).isEqualTo("fp-1");
    assertThat(m.datasetHash()).isEqualTo("abc");
    assertThat(m.createdBy()).isEqualTo("alice");
    assertThat(m.metrics()).containsEntry("test.accuracy", 0.9);
    assertThat(m.promptTemplate()).isEqualTo(PromptTemplate.DEFAULT.text());
    assertThat(m.contentHash()).isEqualTo(AdapterStore.contentHash(v1.dir())).hasSize(64);
    assertThat(store.load(AdapterRef.parse("chest-ct@1")).parameters())
        .isEqualTo(adapter(1).parameters());
  }

  @Test
  void versions_areImmutable(@TempDir Path dir) throws Exception {
    AdapterStore store = open(dir);
    AdapterVersion v1 = store.register("chest-ct", adapter(1), lineage());
    byte[] before = Files.readAllBytes(v1.dir().resolve("adapter_model.safetensors"));

    store.register("chest-ct", adapter(9), lineage());
    AdapterStore reopened = open(dir);

    assertThat(Files.readAllBytes(v1.dir().resolve("adapter_model.safetensors"))).isEqualTo(before);
    assertThat(reopened.get(AdapterRef.of("chest-ct", 1)).metadata().contentHash())
        .isEqualTo(v1.metadata().contentHash());
  }

  @Test
  void setAlias_movesOnlyWhenAsked(@TempDir Path dir) throws Exception {
    AdapterStore store = open(dir);
    store.register("chest-ct", adapter(1), lineage());
    store.register("chest-ct", adapter(2), lineage());

    assertThat(store.setAlias("chest-ct", "production", 1)).isZero();
    store.register("chest-ct", adapter(3), lineage());
    assertThat(store.get(AdapterRef.parse("chest-ct@production")).metadata().version())
        .isEqualTo(1);
    assertThat(store.get(AdapterRef.parse("chest-ct")).metadata().version()).isEqualTo(1);

    assertThat(store.setAlias("chest-ct", "production", 3)).isEqualTo(1);
    assertThat(open(dir).get(AdapterRef.parse("chest-ct@production")).aliases())
        .containsExactly("production");
    assertThatThrownBy(() -> store.setAlias("chest-ct", "production", 7))
        .isInstanceOf(NoSuchElementException.class);
    assertThatThrownBy(() -> store.setAlias("chest-ct", "Prod uction", 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("alias");
  }

  @Test
  void archive_keepsFilesAndStopsResolvingByName(@TempDir Path dir) throws Exception {
    AdapterStore store = open(dir);
    store.register("chest-ct", adapter(1), lineage());
    AdapterVersion v2 = store.register("chest-ct", adapter(2), lineage());
    store.setAlias("chest-ct", "staging", 2);
    assertThatThrownBy(() -> store.archive(AdapterRef.of("chest-ct", 2)))
        .isInstanceOf(IllegalStateException.class);
    store.setAlias("chest-ct", "staging", 1);

    store.archive(AdapterRef.of("chest-ct", 2));

    assertThat(v2.dir()).exists();
    assertThat(store.list(Optional.of("chest-ct"), false))
        .extracting(AdapterVersion::ref)
        .containsExactly("chest-ct@1");
    assertThat(store.list(Optional.of("chest-ct"), true)).hasSize(2);
    assertThat(store.get(AdapterRef.parse("chest-ct")).metadata().version()).isEqualTo(1);
    assertThatThrownBy(() -> store.setAlias("chest-ct", "production", 2))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void register_onAFullDisk_registersNothing_andWorksOnceSpaceReturns(@TempDir Path dir)
      throws Exception {
    Path small = Files.createDirectories(dir.resolve("small"));
    assumeThat(mountTmpfs(small, "256k")).as("permission to mount a tmpfs").isTrue();
    try {
      AdapterStore store = open(small);
      store.register("chest-ct", adapter(1), lineage());
      Path filler = fill(small.resolve("filler"));

      assertThatThrownBy(() -> store.register("chest-ct", adapter(2), lineage()))
          .isInstanceOf(IOException.class);

      assertThat(store.list(Optional.empty(), true))
          .extracting(AdapterVersion::ref)
          .containsExactly("chest-ct@1");
      try (Stream<Path> s = Files.list(small.resolve("chest-ct"))) {
        assertThat(s.map(p -> p.getFileName().toString())).containsExactly("1");
      }
      Files.delete(filler);
      assertThat(store.register("chest-ct", adapter(2), lineage()).ref()).isEqualTo("chest-ct@2");
      assertThat(store.load(AdapterRef.parse("chest-ct@2")).config()).isEqualTo(LORA);
    } finally {
      new ProcessBuilder("umount", "-l", small.toString()).start().waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static boolean mountTmpfs(Path at, String size) throws Exception {
    Process p =
        new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", at.toString())
            .redirectErrorStream(true)
            .start();
    return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
  }

  /** Writes {@code file} until the file system refuses more. */
  private static Path fill(Path file) throws IOException {
    byte[] block = new byte[4096];
    try (var out = Files.newOutputStream(file)) {
      while (true) {
        out.write(block);
      }
    } catch (IOException full) {
      return file; // no space left: the file keeps what fitted
    }
  }

  @Test
  void register_killedAtAnyPoint_leavesOnlyWholeVersions(@TempDir Path dir) throws Exception {
    open(dir).register("chest-ct", adapter(1), lineage());
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    SplittableRandom random = new SplittableRandom(7);
    int saved = 1;
    for (int round = 0; round < 3; round++) {
      Process child =
          new ProcessBuilder(
                  java,
                  "-cp",
                  System.getProperty("java.class.path"),
                  SavingForever.class.getName(),
                  dir.toString())
              .redirectErrorStream(true)
              .start();
      var lines =
          new java.io.BufferedReader(
              new java.io.InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      for (int i = 0; i < 2; i++) {
        assertThat(lines.readLine()).startsWith("saved chest-ct@");
        saved++;
      }
      Thread.sleep(random.nextInt(20)); // SIGKILL lands somewhere inside a later save
      child.destroyForcibly().waitFor(60, TimeUnit.SECONDS);

      AdapterStore reopened = open(dir);
      List<AdapterVersion> versions = reopened.list(Optional.empty(), true);
      assertThat(versions.size()).isGreaterThanOrEqualTo(saved);
      for (int v = 1; v <= versions.size(); v++) {
        assertThat(versions.get(v - 1).ref()).isEqualTo("chest-ct@" + v);
        assertThat(reopened.load(AdapterRef.parse("chest-ct@" + v)).config()).isEqualTo(LORA);
      }
      try (Stream<Path> s = Files.list(dir.resolve("chest-ct"))) {
        assertThat(s.map(p -> p.getFileName().toString()))
            .noneMatch(n -> n.startsWith(AdapterStore.TEMP_PREFIX));
      }
      saved = versions.size();
    }
    assertThat(open(dir).register("chest-ct", adapter(9), lineage()).ref())
        .isEqualTo("chest-ct@" + (saved + 1));
  }

  @Test
  void importAdapter_refusesPickleNanAndShapeMismatch(@TempDir Path dir) throws Exception {
    AdapterStore store = open(dir);
    Path good = dir.resolve("in-good");
    adapter(1).write(good);
    assertThat(
            store
                .importAdapter("imported", good, Lineage.imported(PromptTemplate.DEFAULT, "bob"))
                .ref())
        .isEqualTo("imported@1");

    Path pickle = dir.resolve("in-pickle");
    adapter(1).write(pickle);
    Files.delete(pickle.resolve(LoraAdapter.WEIGHTS_FILE));
    Files.write(pickle.resolve("adapter_model.bin"), new byte[] {(byte) 0x80, 2});
    assertThatThrownBy(
            () ->
                store.importAdapter(
                    "imported", pickle, Lineage.imported(PromptTemplate.DEFAULT, "bob")))
        .isInstanceOf(AdapterException.class)
        .hasMessageContaining("pickle");

    Path other = dir.resolve("in-shape");
    LoraAdapter.create(ModelConfig.of(32, 64, 2, 2, 2, 1000, 128, true), LORA, 1).write(other);
    assertThatThrownBy(
            () ->
                store.importAdapter(
                    "imported", other, Lineage.imported(PromptTemplate.DEFAULT, "bob")))
        .isInstanceOf(AdapterException.class);

    Path nan = dir.resolve("in-nan");
    adapter(1).write(nan);
    writeWithNan(nan);
    assertThatThrownBy(
            () ->
                store.importAdapter(
                    "imported", nan, Lineage.imported(PromptTemplate.DEFAULT, "bob")))
        .isInstanceOf(IOException.class);

    assertThat(store.list(Optional.of("imported"), true)).hasSize(1);
  }

  private static void writeWithNan(Path dir) throws IOException {
    LoraAdapter a = adapter(1);
    SafetensorsWriter w = SafetensorsWriter.create().metadata("format", "pt");
    for (int l = 0; l < BASE.numHiddenLayers(); l++) {
      for (var p :
          List.of(
              dev.protorad.engine.checkpoint.Projection.Q_PROJ,
              dev.protorad.engine.checkpoint.Projection.V_PROJ)) {
        var pair = a.pair(l, p).orElseThrow();
        float[] aw = pair.a().clone();
        aw[0] = Float.NaN;
        w.addFloats(LoraAdapter.key(l, p, "A"), DType.F32, new long[] {pair.r(), pair.in()}, aw);
        w.addFloats(
            LoraAdapter.key(l, p, "B"), DType.F32, new long[] {pair.out(), pair.r()}, pair.b());
      }
    }
    w.write(dir.resolve(LoraAdapter.WEIGHTS_FILE));
  }

  /** A child JVM that registers versions until it is killed, naming each once it is durable. */
  static final class SavingForever {
    public static void main(String[] args) throws Exception {
      AdapterStore store = open(Path.of(args[0]));
      for (long seed = 100; ; seed++) {
        System.out.println("saved " + store.register("chest-ct", adapter(seed), lineage()).ref());
        System.out.flush();
      }
    }
  }
}
