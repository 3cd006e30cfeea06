package dev.protorad.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real server leaves its data directory readable by its own user alone. */
class DataDirectoryPermissionsTest {

  @TempDir Path dir;

  @Test
  void serverStart_makesTheDataDirectoryAndEverythingInItOwnerOnly() throws Exception {
    Path data = Files.createDirectories(dir.resolve("data"));
    Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path earlier = Files.writeString(data.resolve("left-from-before.txt"), "x");
    Files.setPosixFilePermissions(earlier, PosixFilePermissions.fromString("rw-r--r--"));

    try (DemoServer server = DemoServer.start(dir, null)) {
      List<Path> all;
      try (Stream<Path> walk = Files.walk(server.dataDir)) {
        all = walk.toList();
      }
      assertThat(all).anyMatch(p -> p.toString().contains("predictions"));
      assertThat(all).anyMatch(p -> p.toString().contains("audit"));
      assertThat(all).anyMatch(p -> p.toString().contains("keys"));
      for (Path p : all) {
        String expected =
            Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "rwx------" : "rw-------";
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p)))
            .as(p.toString())
            .isEqualTo(expected);
      }
    }
  }
}
