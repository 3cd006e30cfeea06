package dev.protorad.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointKeysTest {

  @TempDir Path dir;

  @Test
  void generate_writesAnOwnerOnlyKeyFileAndAPublicKey() throws IOException {
    Path key = dir.resolve("keys/checkpoint.key");

    CheckpointKeys generated = CheckpointKeys.generate(key);

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key)))
        .isEqualTo("rw-------");
    assertThat(Files.readString(key)).contains("BEGIN PRIVATE KEY", "BEGIN PUBLIC KEY");
    assertThat(Files.readString(dir.resolve("keys/checkpoint.key.pub"))).doesNotContain("PRIVATE");
    assertThat(generated.keyId()).hasSize(16);
  }

  @Test
  void load_afterGenerate_signsWhatThePublicKeyFileVerifies() throws IOException {
    Path key = dir.resolve("checkpoint.key");
    CheckpointKeys.generate(key);

    CheckpointKeys loaded = CheckpointKeys.load(key);
    CheckpointKeys auditor = CheckpointKeys.verifyOnly(List.of(dir.resolve("checkpoint.key.pub")));
    Checkpoint signed = loaded.sign(checkpoint("a".repeat(64)));

    assertThat(auditor.verify(signed)).isTrue();
    assertThat(auditor.verify(signed.withSignature(signed.keyId(), tamper(signed.signature()))))
        .isFalse();
  }

  @Test
  void verify_checkpointWhoseContentChanged_isRejected() {
    CheckpointKeys keys = CheckpointKeys.generateInMemory();
    Checkpoint signed = keys.sign(checkpoint("a".repeat(64)));
    Checkpoint edited =
        new Checkpoint(
            signed.kind(),
            signed.writerId(),
            signed.sequence(),
            "b".repeat(64),
            signed.time(),
            signed.interval(),
            signed.keyId(),
            signed.signature());

    assertThat(keys.verify(signed)).isTrue();
    assertThat(keys.verify(edited)).isFalse();
  }

  @Test
  void alsoTrusting_afterRotation_verifiesOldAndNewCheckpoints() {
    CheckpointKeys old = CheckpointKeys.generateInMemory();
    CheckpointKeys current = CheckpointKeys.generateInMemory().alsoTrusting(old);

    assertThat(current.verify(old.sign(checkpoint("a".repeat(64))))).isTrue();
    assertThat(current.verify(current.sign(checkpoint("a".repeat(64))))).isTrue();
    assertThat(old.verify(current.sign(checkpoint("a".repeat(64))))).isFalse();
  }

  @Test
  void generate_overAnExistingFile_refuses() throws IOException {
    Path key = dir.resolve("checkpoint.key");
    CheckpointKeys.generate(key);

    assertThatThrownBy(() -> CheckpointKeys.generate(key))
        .isInstanceOf(FileAlreadyExistsException.class);
    assertThat(CheckpointKeys.loadOrGenerate(key).keyId())
        .isEqualTo(CheckpointKeys.load(key).keyId());
  }

  @Test
  void load_privateKeyWithoutPublicKey_explainsWhatIsMissing() throws IOException {
    Path key = dir.resolve("checkpoint.key");
    CheckpointKeys.generate(key);
    String text = Files.readString(key);
    Path lonely = dir.resolve("lonely.key");
    Files.writeString(lonely, text.substring(0, text.indexOf("-----BEGIN PUBLIC KEY")));

    assertThatThrownBy(() -> CheckpointKeys.load(lonely))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PUBLIC KEY");
  }

  @Test
  void toString_namesKeyIdsOnly() {
    CheckpointKeys keys = CheckpointKeys.generateInMemory();

    assertThat(keys.toString()).contains(keys.keyId()).doesNotContain("PRIVATE");
  }

  private static Checkpoint checkpoint(String hash) {
    return new Checkpoint(
        Checkpoint.Kind.CHECKPOINT,
        "w1",
        10,
        hash,
        Instant.parse("2026-01-01T00:00:00Z"),
        1000,
        "",
        "");
  }

  private static String tamper(String base64) {
    char c = base64.charAt(5);
    return base64.substring(0, 5) + (c == 'A' ? 'B' : 'A') + base64.substring(6);
  }
}
