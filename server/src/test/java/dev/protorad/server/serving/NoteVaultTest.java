package dev.protorad.server.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NoteVaultTest {

  private static final String CANARY = "CANARY-PHI-5521 pt allergic to iodinated contrast";

  @TempDir Path dir;
  private final SecureRandom random = new SecureRandom();

  private NoteVault vault(String id) {
    byte[] key = new byte[NoteVault.KEY_BYTES];
    random.nextBytes(key);
    return NoteVault.of(Map.of(id, key), id, random);
  }

  @Test
  void seal_thenOpen_givesTheNoteBack_andTheCiphertextHidesIt() throws Exception {
    NoteVault vault = vault("n1");

    SealedNote sealed = vault.seal("p-1", CANARY);

    assertThat(sealed.keyId()).isEqualTo("n1");
    assertThat(sealed.nonce()).hasSize(12);
    assertThat(new String(sealed.ciphertext(), StandardCharsets.ISO_8859_1))
        .doesNotContain("CANARY");
    assertThat(sealed.ciphertext()).hasSize(CANARY.length() + 16);
    assertThat(vault.open("p-1", sealed)).isEqualTo(CANARY);
  }

  @Test
  void seal_drawsAFreshNoncePerNote() {
    NoteVault vault = vault("n1");

    SealedNote a = vault.seal("p-1", CANARY);
    SealedNote b = vault.seal("p-1", CANARY);

    assertThat(a.nonce()).isNotEqualTo(b.nonce());
    assertThat(a.ciphertext()).isNotEqualTo(b.ciphertext());
  }

  @Test
  void open_tamperedCiphertext_isNotAuthentic_andTheMessageHoldsNoText() {
    NoteVault vault = vault("n1");
    byte[] bytes = vault.seal("p-1", CANARY).ciphertext();
    bytes[3] ^= 1;
    SealedNote tampered = new SealedNote("n1", vault.seal("p-1", CANARY).nonce(), bytes);

    assertThatThrownBy(() -> vault.open("p-1", tampered))
        .isInstanceOfSatisfying(
            NoteVault.OpenException.class,
            e -> assertThat(e.reason()).isEqualTo(NoteVault.OpenException.Reason.NOT_AUTHENTIC))
        .hasMessageNotContaining("CANARY")
        .hasMessageContaining("p-1");
  }

  @Test
  void open_underAnotherPredictionId_isNotAuthentic() {
    NoteVault vault = vault("n1");
    SealedNote sealed = vault.seal("p-1", CANARY);

    assertThatThrownBy(() -> vault.open("p-2", sealed))
        .isInstanceOfSatisfying(
            NoteVault.OpenException.class,
            e -> assertThat(e.reason()).isEqualTo(NoteVault.OpenException.Reason.NOT_AUTHENTIC));
  }

  @Test
  void open_withAnotherKeyUnderTheSameId_isNotAuthentic_andAnUnknownIdIsNamed() {
    SealedNote sealed = vault("n1").seal("p-1", CANARY);

    assertThatThrownBy(() -> vault("n1").open("p-1", sealed))
        .isInstanceOfSatisfying(
            NoteVault.OpenException.class,
            e -> assertThat(e.reason()).isEqualTo(NoteVault.OpenException.Reason.NOT_AUTHENTIC));
    assertThatThrownBy(() -> vault("n2").open("p-1", sealed))
        .isInstanceOfSatisfying(
            NoteVault.OpenException.class,
            e -> assertThat(e.reason()).isEqualTo(NoteVault.OpenException.Reason.UNKNOWN_KEY))
        .hasMessageContaining("'n1'");
  }

  @Test
  void of_rejectsKeysThatAreNot256Bits() {
    assertThatThrownBy(() -> NoteVault.of(Map.of("n1", new byte[16]), "n1", random))
        .hasMessage("key 'n1': 16 bytes (expected: 32)");
  }

  @Test
  void keyFile_createdOwnerOnly_andRotationKeepsOldNotesReadable() throws Exception {
    Path file = dir.resolve("keys").resolve("prediction-notes.keys");
    NoteVault first = NoteKeyFile.loadOrCreate(file, random);
    SealedNote old = first.seal("p-1", CANARY);

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    byte[] key = new byte[32];
    random.nextBytes(key);
    Files.writeString(
        file,
        Files.readString(file) + "n2=" + java.util.Base64.getEncoder().encodeToString(key) + "\n");
    NoteVault rotated = NoteKeyFile.loadOrCreate(file, random);

    assertThat(rotated.currentKeyId()).isEqualTo("n2");
    assertThat(rotated.seal("p-2", "x").keyId()).isEqualTo("n2");
    assertThat(rotated.open("p-1", old)).isEqualTo(CANARY);
  }

  @Test
  void keyFile_malformedLine_namesTheLineNotTheKey() throws Exception {
    Path file = Files.writeString(dir.resolve("bad.keys"), "# keys\nn1=not*base64\n");

    assertThatThrownBy(() -> NoteKeyFile.load(file, random))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageEndingWith("bad.keys:2: key is not base64 (not shown)");
  }
}
