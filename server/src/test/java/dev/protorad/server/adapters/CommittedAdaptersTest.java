package dev.protorad.server.adapters;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.clinical.gate.VersionGate;
import dev.protorad.engine.checkpoint.BaseCheckpoint;
import dev.protorad.engine.checkpoint.LoadOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The adapter versions committed beside the demo base load, chain, record their templates and match
 * their hashes.
 */
class CommittedAdaptersTest {

  private static final Path DEMO_BASE = Path.of("..", "models", "demo-base");

  @Test
  void committedVersions_loadOnTheBase_chainTheirParents_andMatchTheirContentHashes(
      @TempDir Path dir) throws Exception {
    BaseCheckpoint base = BaseCheckpoint.load(DEMO_BASE, LoadOptions.defaults());
    // A copy: opening a store may write its state file, and the committed tree stays as it is.
    Path adapters = dir.resolve("adapters");
    try (Stream<Path> files = Files.walk(DEMO_BASE.resolve("adapters"))) {
      for (Path source : files.toList()) {
        Path target = adapters.resolve(DEMO_BASE.resolve("adapters").relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target);
        }
      }
    }
    AdapterStore store = AdapterStore.open(adapters, base.config(), base.fingerprint());

    List<AdapterVersion> versions = store.list(Optional.of("protocol"), false);

    assertThat(versions)
        .extracting(AdapterVersion::ref)
        .containsExactly(
            "protocol@1",
            "protocol@2",
            "protocol@3",
            "protocol@4",
            "protocol@5",
            "protocol@6",
            "protocol@7");
    assertThat(versions)
        .extracting(v -> v.metadata().parent())
        .containsExactly(
            "", "protocol@1", "protocol@2", "protocol@3", "protocol@4", "protocol@5", "protocol@5");
    assertThat(versions)
        .extracting(v -> v.metadata().promptTemplateVersion())
        .containsExactly("v1", "v1", "v1", "v2", "v2", "v2", "v2");
    assertThat(versions)
        .extracting(v -> VersionGate.load(v.dir(), AdapterStore.METADATA_FILE).isPresent())
        .as("only the two calibrated versions carry a fitted review gate")
        .containsExactly(false, false, false, false, false, true, true);
    assertThat(
            VersionGate.load(versions.get(6).dir(), AdapterStore.METADATA_FILE)
                .orElseThrow()
                .gate()
                .calibrationExamples())
        .as("the default's gate is fitted on the corpus's validation split and the calibration set")
        .isEqualTo(1320);
    for (AdapterVersion v : versions) {
      assertThat(v.metadata().baseFingerprint()).isEqualTo(base.fingerprint());
      assertThat(AdapterStore.contentHash(v.dir()))
          .as(v.ref())
          .isEqualTo(v.metadata().contentHash());
      assertThat(store.load(AdapterRef.of("protocol", v.metadata().version())).parameters())
          .isPositive();
    }
    assertThat(store.get(AdapterRef.parse("protocol")).ref()).isEqualTo("protocol@7");
  }
}
