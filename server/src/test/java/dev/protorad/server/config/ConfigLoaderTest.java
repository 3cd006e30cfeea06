package dev.protorad.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  @TempDir Path dir;

  private Path yaml(String text) throws Exception {
    return Files.writeString(dir.resolve("protorad.yaml"), text);
  }

  @Test
  void load_withoutFileOrEnvironment_givesDefaults() {
    ServerConfig config = ConfigLoader.withEnvironment(Map.of()).load(null);

    assertThat(config).isEqualTo(ServerConfig.defaults());
    assertThat(config.host()).isEqualTo("127.0.0.1");
    assertThat(config.port()).isEqualTo(50051);
  }

  @Test
  void load_readsEveryKeyFromYaml() throws Exception {
    Path file = yaml("host: 0.0.0.0\nport: 6000\ndata_dir: /tmp/pr\nshutdown_grace_seconds: 3\n");

    ServerConfig config = ConfigLoader.withEnvironment(Map.of()).load(file);

    assertThat(config.host()).isEqualTo("0.0.0.0");
    assertThat(config.port()).isEqualTo(6000);
    assertThat(config.dataDir()).isEqualTo(Path.of("/tmp/pr"));
    assertThat(config.shutdownGrace()).isEqualTo(Duration.ofSeconds(3));
  }

  @Test
  void load_environmentOverridesFile() throws Exception {
    Path file = yaml("port: 6000\n");

    ServerConfig config =
        ConfigLoader.withEnvironment(Map.of("PROTORAD_PORT", "7000", "PROTORAD_HOST", "::1"))
            .load(file);

    assertThat(config.port()).isEqualTo(7000);
    assertThat(config.host()).isEqualTo("::1");
  }

  @Test
  void serverRole_defaultsToAll_readsFileAndEnvironment_andRefusesOthers() throws Exception {
    assertThat(ConfigLoader.withEnvironment(Map.of()).load(null).role())
        .isEqualTo(ServerConfig.Role.ALL);
    assertThat(ConfigLoader.withEnvironment(Map.of()).load(yaml("server:\n  role: serve\n")).role())
        .isEqualTo(ServerConfig.Role.SERVE);
    assertThat(
            ConfigLoader.withEnvironment(Map.of("PROTORAD_SERVER_ROLE", "train")).load(null).role())
        .isEqualTo(ServerConfig.Role.TRAIN);
    assertThatThrownBy(
            () -> ConfigLoader.withEnvironment(Map.of("PROTORAD_SERVER_ROLE", "both")).load(null))
        .isInstanceOf(ConfigException.class)
        .hasMessage("server.role: 'both' (expected: serve, train or all)");
  }

  @Test
  void load_portOutOfRange_namesKeyAndExpectedRange() throws Exception {
    Path file = yaml("port: 70000\n");

    assertThatThrownBy(() -> ConfigLoader.withEnvironment(Map.of()).load(file))
        .isInstanceOf(ConfigException.class)
        .hasMessage("port: 70000 (expected: 0..65535)");
  }

  @Test
  void load_portNotANumber_namesKey() throws Exception {
    Path file = yaml("port: fifty\n");

    assertThatThrownBy(() -> ConfigLoader.withEnvironment(Map.of()).load(file))
        .isInstanceOf(ConfigException.class)
        .hasMessage("port: 'fifty' (expected: an integer in 0..65535)");
  }

  @Test
  void load_badEnvironmentValue_namesKey() {
    assertThatThrownBy(() -> ConfigLoader.withEnvironment(Map.of("PROTORAD_PORT", "-1")).load(null))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("port"));
  }

  @Test
  void load_unknownKey_isRejectedWithTheKnownKeys() throws Exception {
    Path file = yaml("prot: 1\n");

    assertThatThrownBy(() -> ConfigLoader.withEnvironment(Map.of()).load(file))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("prot: unknown key")
        .hasMessageContaining("data_dir");
  }

  @Test
  void load_nestedSections_becomeDottedKeys() throws Exception {
    Path file =
        yaml(
            """
            policy:
              file: /etc/protorad/policy.yaml
              reload_seconds: 0
            audit:
              store: file
              dir: /var/lib/protorad/audit
              retention_days: 30
              allow_short_retention: true
            tls:
              cert_file: s.pem
              key_file: s.key
            """);

    ServerConfig config = ConfigLoader.withEnvironment(Map.of()).load(file);

    assertThat(config.resolvedPolicyFile()).isEqualTo(Path.of("/etc/protorad/policy.yaml"));
    assertThat(config.policyReload()).isZero();
    assertThat(config.audit().resolvedDirectory(config.dataDir()))
        .isEqualTo(Path.of("/var/lib/protorad/audit"));
    assertThat(config.audit().retention()).isEqualTo(java.time.Period.ofDays(30));
    assertThat(config.tls().enabled()).isTrue();
  }

  @Test
  void load_environmentNamesUseUnderscoresForDots() {
    ServerConfig config =
        ConfigLoader.withEnvironment(Map.of("PROTORAD_AUDIT_RETENTION_DAYS", "3000")).load(null);

    assertThat(ConfigLoader.environmentName("audit.jdbc_url")).isEqualTo("PROTORAD_AUDIT_JDBC_URL");
    assertThat(config.audit().retention()).isEqualTo(java.time.Period.ofDays(3000));
  }

  @Test
  void load_unknownAuditStore_namesKey() throws Exception {
    Path file = yaml("audit:\n  store: s3\n");

    assertThatThrownBy(() -> ConfigLoader.withEnvironment(Map.of()).load(file))
        .isInstanceOf(ConfigException.class)
        .hasMessage("audit.store: 's3' (expected: file or postgres)");
  }

  @Test
  void load_postgresWithoutJdbcUrl_namesKey() throws Exception {
    Path file = yaml("audit:\n  store: postgres\n");

    assertThatThrownBy(() -> ConfigLoader.withEnvironment(Map.of()).load(file))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("audit.jdbc_url: ");
  }

  @Test
  void load_clientAuthWithoutCa_namesKey() throws Exception {
    Path file = yaml("tls:\n  cert_file: s.pem\n  key_file: s.key\n  client_auth: require\n");

    assertThatThrownBy(() -> ConfigLoader.withEnvironment(Map.of()).load(file))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("tls.client_ca_file: missing");
  }

  @Test
  void load_unknownNestedKey_isRejected() throws Exception {
    Path file = yaml("audit:\n  stor: file\n");

    assertThatThrownBy(() -> ConfigLoader.withEnvironment(Map.of()).load(file))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("audit.stor: unknown key");
  }

  @Test
  void load_missingFile_saysSo() {
    Path missing = dir.resolve("nope.yaml");

    assertThatThrownBy(() -> ConfigLoader.withEnvironment(Map.of()).load(missing))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("does not exist");
  }

  @Test
  void load_notAMapping_isRejected() throws Exception {
    Path file = yaml("- a\n- b\n");

    assertThatThrownBy(() -> ConfigLoader.withEnvironment(Map.of()).load(file))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("not a YAML mapping");
  }

  @Test
  void load_invalidYaml_isOneLine() throws Exception {
    Path file = yaml("port: [1,\n");

    assertThatThrownBy(() -> ConfigLoader.withEnvironment(Map.of()).load(file))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("not valid YAML")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void load_predictionNotes_defaultToRetainedUnderTheDataDir() {
    ServerConfig config = ConfigLoader.withEnvironment(Map.of()).load(null);

    assertThat(config.serving().retainNotes()).isTrue();
    assertThat(config.serving().resolvedNoteKeyFile(Path.of("d")))
        .isEqualTo(Path.of("d", "keys", "prediction-notes.keys"));
  }

  @Test
  void load_predictionNotes_fromYamlAndEnvironment() throws Exception {
    Path file = yaml("predictions:\n  retain_notes: false\n  note_key_file: /keys/notes.keys\n");

    ServerConfig fromFile = ConfigLoader.withEnvironment(Map.of()).load(file);
    ServerConfig fromEnv =
        ConfigLoader.withEnvironment(Map.of("PROTORAD_PREDICTIONS_RETAIN_NOTES", "TRUE"))
            .load(file);

    assertThat(fromFile.serving().retainNotes()).isFalse();
    assertThat(fromFile.serving().resolvedNoteKeyFile(Path.of("d")))
        .isEqualTo(Path.of("/keys/notes.keys"));
    assertThat(fromEnv.serving().retainNotes()).isTrue();
  }

  @Test
  void load_retainNotesNotABoolean_namesKeyAndExpectedValues() throws Exception {
    Path file = yaml("predictions:\n  retain_notes: sometimes\n");

    assertThatThrownBy(() -> ConfigLoader.withEnvironment(Map.of()).load(file))
        .isInstanceOf(ConfigException.class)
        .hasMessage("predictions.retain_notes: 'sometimes' (expected: true or false)");
  }

  @Test
  void load_noteRetention_defaultsTo90Days_andZeroKeepsNotesForever() throws Exception {
    ServerConfig defaults = ConfigLoader.withEnvironment(Map.of()).load(null);
    ServerConfig forever =
        ConfigLoader.withEnvironment(Map.of())
            .load(yaml("predictions:\n  note_retention_days: 0\n"));
    ServerConfig fromEnv =
        ConfigLoader.withEnvironment(Map.of("PROTORAD_PREDICTIONS_NOTE_RETENTION_DAYS", "30"))
            .load(null);

    assertThat(defaults.serving().noteRetention()).contains(Duration.ofDays(90));
    assertThat(forever.serving().noteRetention()).isEmpty();
    assertThat(fromEnv.serving().noteRetention()).contains(Duration.ofDays(30));
  }

  @Test
  void load_noteRetentionNegativeOrNotANumber_namesKeyAndExpectedRange() throws Exception {
    Path negative = yaml("predictions:\n  note_retention_days: -1\n");

    assertThatThrownBy(() -> ConfigLoader.withEnvironment(Map.of()).load(negative))
        .isInstanceOf(ConfigException.class)
        .hasMessage("predictions.note_retention_days: -1 (expected: 0..36500)");
    assertThatThrownBy(
            () ->
                ConfigLoader.withEnvironment(
                        Map.of("PROTORAD_PREDICTIONS_NOTE_RETENTION_DAYS", "90d"))
                    .load(null))
        .isInstanceOf(ConfigException.class)
        .hasMessage("predictions.note_retention_days: '90d' (expected: an integer in 0..36500)");
  }

  @Test
  void load_auditRetention_defaultsToSixYears_andZeroIsRefused() throws Exception {
    ServerConfig defaults = ConfigLoader.withEnvironment(Map.of()).load(null);
    Path zero = yaml("audit:\n  retention_days: 0\n");

    assertThat(defaults.audit().retention()).isEqualTo(java.time.Period.ofYears(6));
    assertThatThrownBy(() -> ConfigLoader.withEnvironment(Map.of()).load(zero))
        .isInstanceOf(ConfigException.class)
        .hasMessage("audit.retention_days: 0 (expected: 1..36500)");
  }

  @Test
  void load_auditRetentionUnderSixYears_isRefusedUnlessExplicitlyAllowed() throws Exception {
    ConfigLoader loader = ConfigLoader.withEnvironment(Map.of());

    assertThatThrownBy(() -> loader.load(yaml("audit:\n  retention_days: 1\n")))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "audit.retention_days: 1 (expected: >= 2192, six years, unless"
                + " audit.allow_short_retention is true)");
    assertThat(
            loader
                .load(yaml("audit:\n  retention_days: 1\n  allow_short_retention: true\n"))
                .audit()
                .retention())
        .isEqualTo(java.time.Period.ofDays(1));
    assertThat(loader.load(yaml("audit:\n  retention_days: 2192\n")).audit().retention())
        .isEqualTo(java.time.Period.ofDays(2192));
  }

  @Test
  void load_rateLimit_defaultsTo1000_andMustBePositive() throws Exception {
    ConfigLoader loader = ConfigLoader.withEnvironment(Map.of());

    assertThat(loader.load(null).serving().rateLimitPerSecond()).isEqualTo(1000.0);
    assertThat(
            loader
                .load(yaml("serving:\n  rate_limit_per_second: 2.5\n"))
                .serving()
                .rateLimitPerSecond())
        .isEqualTo(2.5);
    assertThatThrownBy(() -> loader.load(yaml("serving:\n  rate_limit_per_second: 0\n")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("serving.rate_limit_per_second: 0");
  }
}
