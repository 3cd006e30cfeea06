package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HealthCommandTest {

  @TempDir Path dir;

  @Test
  void aServingServer_isSERVING_exit0_andNoServer_isExit1() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int serving;
    try (DemoServer server = DemoServer.start(dir, null)) {
      serving =
          Main.commandLine()
              .setOut(new PrintWriter(out))
              .setErr(new PrintWriter(err))
              .execute("health", "--server", server.target());
    }
    int down =
        Main.commandLine()
            .setOut(new PrintWriter(new StringWriter()))
            .setErr(new PrintWriter(err))
            .execute("health", "--server", "127.0.0.1:" + closedPort);

    assertThat(serving).as(err.toString()).isZero();
    assertThat(out.toString().strip()).isEqualTo("SERVING");
    assertThat(down).isEqualTo(ExitCodes.FAILURE);
    assertThat(err.toString()).contains("UNAVAILABLE");
  }
}
