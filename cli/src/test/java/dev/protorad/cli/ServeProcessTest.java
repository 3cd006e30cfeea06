package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@code protorad} as a real child process: signals, exit codes and stderr. */
class ServeProcessTest {

  @TempDir Path dir;

  private Process launch(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectErrorStream(false).start();
  }

  private void writeDefaultPolicy() throws Exception {
    try (var in = getClass().getResourceAsStream("/dev/protorad/policy/default-policy.yaml")) {
      Files.write(dir.resolve("policy.yaml"), in.readAllBytes());
    }
  }

  @Test
  void serve_onSigterm_drainsAndExitsZero() throws Exception {
    writeDefaultPolicy();
    Process process = launch("serve", "--port", "0", "--data-dir", dir.toString());
    BufferedReader out =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String first = out.readLine();
    assertThat(first).startsWith("protorad: listening on 127.0.0.1:");
    for (String line = first; !line.startsWith("protorad: ready"); line = out.readLine()) {
      assertThat(line).isNotNull();
    }

    // Process.destroy() would also close our end of the pipes; send the signal by itself.
    new ProcessBuilder("kill", "-TERM", Long.toString(process.pid())).start().waitFor();

    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).isZero();
    assertThat(out.lines()).contains("protorad: stopped");
  }

  @Test
  void serve_badConfig_printsOneLineAndExitsTwo() throws Exception {
    Path config = Files.writeString(dir.resolve("bad.yaml"), "port: 99999\n");

    Process process = launch("serve", "--config", config.toString());

    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).isEqualTo(2);
    String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(err.strip())
        .isEqualTo("protorad: config error: port: 99999 (expected: 0..65535)")
        .doesNotContain("Exception");
  }

  @Test
  void serve_withoutPolicy_namesTheKeyAndExitsTwo() throws Exception {
    Process process = launch("serve", "--port", "0", "--data-dir", dir.toString());

    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).isEqualTo(2);
    String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(err).startsWith("protorad: config error: policy.file: ").contains("does not exist");
  }

  @Test
  void serve_invalidPolicy_namesTheLineAndExitsTwo() throws Exception {
    Files.writeString(dir.resolve("policy.yaml"), "version: 1\nroles:\n  clinician: [note]\n");
    Process process = launch("serve", "--port", "0", "--data-dir", dir.toString());

    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).isEqualTo(2);
    String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(err).startsWith("protorad: config error: policy.file: policy.yaml:3:");
  }

  @Test
  void serve_unknownFlag_exitsTwo() throws Exception {
    Process process = launch("serve", "--prot", "1");

    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).isEqualTo(2);
  }

  @Test
  void demo_noServe_toursAndExitsZero() throws Exception {
    Process process = launch("demo", "--no-serve", "--port", "0", "--data-dir", dir.toString());

    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.exitValue()).isZero();
    assertThat(out)
        .contains("health: SERVING")
        .contains("-> PERMISSION_DENIED")
        .contains("-> UNAUTHENTICATED")
        .contains("for dr.lee")
        .contains("valid: true");
    assertThat(dir.resolve("demo-credentials.json")).exists();
  }
}
