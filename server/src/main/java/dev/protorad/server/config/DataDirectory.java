package dev.protorad.server.config;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The server's data directory (keys, audit segments, the prediction database with its sealed notes,
 * adapters) is readable by the server's user alone: the directory and every folder in it {@code
 * rwx------}, every file {@code rw-------}. Symbolic links are left as they are and not followed.
 */
public final class DataDirectory {

  static final Set<PosixFilePermission> FOLDER = PosixFilePermissions.fromString("rwx------");
  static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

  private DataDirectory() {}

  /**
   * Creates {@code dir} if needed and makes the directory itself owner-only, so that nothing
   * written inside it before {@link #secure} walks it is reachable by another user.
   */
  public static void create(Path dir) throws IOException {
    requireNonNull(dir, "dir");
    Files.createDirectories(dir);
    if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      Files.setPosixFilePermissions(dir, FOLDER);
    }
  }

  /**
   * Creates {@code dir} if needed and makes it and everything in it owner-only. A no-op on file
   * systems without POSIX permissions.
   */
  public static void secure(Path dir) throws IOException {
    requireNonNull(dir, "dir");
    Files.createDirectories(dir);
    if (!FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      return;
    }
    List<Path> all;
    try (Stream<Path> walk = Files.walk(dir)) {
      all = walk.toList();
    }
    for (Path p : all) {
      if (Files.isSymbolicLink(p)) {
        continue;
      }
      boolean folder = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
      Set<PosixFilePermission> wanted = folder ? FOLDER : FILE;
      try {
        if (!Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS).equals(wanted)) {
          Files.setPosixFilePermissions(p, wanted);
        }
      } catch (java.nio.file.NoSuchFileException gone) {
        // removed while walking (a temporary file): nothing to protect
      }
    }
  }
}
