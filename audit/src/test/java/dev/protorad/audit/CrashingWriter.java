package dev.protorad.audit;

import java.nio.file.Path;

/**
 * Run in a child JVM by {@link FileAuditStoreCrashTest}: appends from four threads forever and
 * prints the sequence of every acknowledged event, until the test kills it with SIGKILL.
 */
public final class CrashingWriter {

  private CrashingWriter() {}

  public static void main(String[] args) throws Exception {
    FileAuditStore store =
        FileAuditStore.builder(Path.of(args[0]))
            .writerId("crash")
            .checkpointKeys(CheckpointKeys.load(Path.of(args[1])))
            .checkpointInterval(50)
            .open();
    for (int t = 0; t < 4; t++) {
      int thread = t;
      new Thread(() -> appendForever(store, thread)).start();
    }
  }

  private static void appendForever(AuditStore store, int thread) {
    for (int i = 0; ; i++) {
      long sequence = store.append(TestDrafts.prediction(thread * 1_000_000 + i)).sequence();
      synchronized (System.out) {
        System.out.println("ACK " + sequence);
        System.out.flush();
      }
    }
  }
}
