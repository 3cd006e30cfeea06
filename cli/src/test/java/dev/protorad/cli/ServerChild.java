package dev.protorad.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code protorad serve} in a JVM of its own, for tests that kill or share servers. */
final class ServerChild {

  private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");

  private ServerChild() {}

  /** Starts {@code protorad serve ARGS} with {@code env} added to this JVM's environment. */
  static Process launch(Map<String, String> env, String... serveArgs) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.add("serve");
    command.addAll(List.of(serveArgs));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("DJL_OFFLINE", "true");
    builder.environment().putAll(env);
    return builder.start();
  }

  /** Kills {@code process} with SIGKILL, as a crash would, and waits for it to be gone. */
  static void sigkill(Process process) throws IOException, InterruptedException {
    new ProcessBuilder("kill", "-KILL", Long.toString(process.pid())).start().waitFor();
    process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
  }

  /**
   * Reads the child's output until it is ready and returns its port; its later output is drained on
   * a daemon thread so that the pipe never fills.
   */
  static int awaitReady(Process process) throws IOException {
    BufferedReader out =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    int port = -1;
    StringBuilder seen = new StringBuilder();
    for (String line = out.readLine(); line != null; line = out.readLine()) {
      seen.append(line).append('\n');
      Matcher m = LISTENING.matcher(line);
      if (m.find()) {
        port = Integer.parseInt(m.group(1));
      }
      if (line.startsWith("protorad: ready")) {
        drain(out);
        return port;
      }
    }
    throw new AssertionError("server exited before it was ready:\n" + seen);
  }

  private static void drain(BufferedReader out) {
    Thread t =
        new Thread(
            () -> {
              try {
                while (out.readLine() != null) {
                  // keep the pipe from filling up
                }
              } catch (IOException e) {
                // the process is gone
              }
            });
    t.setDaemon(true);
    t.start();
  }
}
