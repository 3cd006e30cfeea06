package dev.protorad.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;

class FileAuditStoreContractTest extends AuditStoreContractTest {

  @TempDir Path dir;

  @Override
  AuditStore open() throws IOException {
    return FileAuditStore.builder(dir).writerId("w1").checkpointKeys(KEYS).clock(clock).open();
  }

  @Override
  String storedText() throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files
          .filter(Files::isRegularFile)
          .map(FileAuditStoreContractTest::read)
          .collect(Collectors.joining("\n"));
    }
  }

  private static String read(Path file) {
    try {
      return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
