package dev.protorad.server.adapters;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two processes on one store directory, as replicas on one volume are: each version number is given
 * once, alias moves land whole, and a store opening in one process never removes a save in progress
 * in the other. The other process is a real JVM running {@link #main}.
 */
class AdapterStoreProcessesTest {

  @TempDir Path dir;

  /**
   * In the child JVM: {@code ROOT NAME COUNT} registers COUNT versions of NAME and moves its {@code
   * production} alias to each, printing their refs; {@code ROOT --open COUNT} opens the store COUNT
   * times.
   */
  public static void main(String[] args) throws IOException {
    Path root = Path.of(args[0]);
    int count = Integer.parseInt(args[2]);
    if (args[1].equals("--open")) {
      for (int i = 0; i < count; i++) {
        AdapterStoreTest.open(root);
      }
      return;
    }
    AdapterStore store = AdapterStoreTest.open(root);
    for (int i = 0; i < count; i++) {
      AdapterVersion v =
          store.register(args[1], AdapterStoreTest.adapter(1000 + i), AdapterStoreTest.lineage());
      store.setAlias(args[1], "production", v.metadata().version());
      System.out.println(v.ref());
    }
  }

  @Test
  void twoProcessesRegisteringAtOnce_numberEachVersionOnce() throws Exception {
    AdapterStore store = AdapterStoreTest.open(dir);
    Process other = child(dir.toString(), "chest-ct", "15");
    List<String> mine = new ArrayList<>();
    for (int i = 0; i < 15; i++) {
      AdapterVersion v =
          store.register("chest-ct", AdapterStoreTest.adapter(i), AdapterStoreTest.lineage());
      store.setAlias("chest-ct", "production", v.metadata().version());
      mine.add(v.ref());
    }
    List<String> theirs = finish(other);

    Set<String> all = new HashSet<>(mine);
    all.addAll(theirs);
    assertThat(theirs).hasSize(15);
    assertThat(all)
        .containsExactlyInAnyOrderElementsOf(
            IntStream.rangeClosed(1, 30).mapToObj(v -> "chest-ct@" + v).toList());
    for (AdapterVersion v : store.list(java.util.Optional.of("chest-ct"), true)) {
      assertThat(store.load(AdapterRef.parse(v.ref()))).isNotNull();
    }
    assertThat(store.get(AdapterRef.parse("chest-ct@production")).metadata().version())
        .isBetween(15, 30);
  }

  @Test
  void storesOpeningInAnotherProcess_neverRemoveASaveInProgress() throws Exception {
    AdapterStore store = AdapterStoreTest.open(dir);
    store.register("chest-ct", AdapterStoreTest.adapter(0), AdapterStoreTest.lineage());
    Process opener = child(dir.toString(), "--open", "300");
    int saved = 1;
    while (opener.isAlive() && saved < 200) {
      store.register("chest-ct", AdapterStoreTest.adapter(saved), AdapterStoreTest.lineage());
      saved++;
    }
    finish(opener);

    assertThat(store.list(java.util.Optional.of("chest-ct"), true)).hasSize(saved);
  }

  private static Process child(String... args) throws IOException {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                AdapterStoreProcessesTest.class.getName()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectErrorStream(true).start();
  }

  /** Waits for {@code p}, fails unless it exited 0, and returns its output lines. */
  private static List<String> finish(Process p) throws Exception {
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out.lines().filter(l -> l.startsWith("chest-ct@")).toList();
  }
}
