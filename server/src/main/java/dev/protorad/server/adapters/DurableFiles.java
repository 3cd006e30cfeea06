package dev.protorad.server.adapters;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

/** Writing directories so that they appear whole or not at all: force, then one atomic rename. */
final class DurableFiles {

  private DurableFiles() {}

  /** Forces a file's or a directory's contents to disk. */
  static void force(Path p) throws IOException {
    if (Files.isDirectory(p)) {
      try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
        ch.force(true);
      } catch (IOException e) {
        // Some file systems refuse to open directories for fsync; the rename is still atomic.
      }
      return;
    }
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
  }

  /** Forces every file directly in {@code dir}, then {@code dir} itself. */
  static void forceAll(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        force(p);
      }
    }
    force(dir);
  }

  /** Renames {@code from} to {@code to} atomically, or fails. */
  static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("file system cannot rename atomically: " + to.getParent(), e);
    }
  }

  /** Copies the regular files directly in {@code from} into the existing {@code to}. */
  static void copyFiles(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.list(from)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        Files.copy(p, to.resolve(p.getFileName().toString()));
      }
    }
  }

  /** Deletes {@code p} and everything under it, if it exists. */
  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(x);
      }
    }
  }
}
