package dev.protorad.server.adapters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where an {@link AdapterStore} keeps which versions each adapter name has, their metadata, their
 * aliases and archive marks: in files beside the versions ({@link FileRecords}), or in a database
 * that every replica shares ({@link DatabaseRecords}). Each implementation decides version numbers,
 * alias moves and archiving atomically across every process that shares it.
 */
interface VersionRecords {

  /** The {@code metadata.json} text of a version about to be given {@code version}. */
  @FunctionalInterface
  interface Metadata {
    String json(int version, String contentHash) throws IOException;
  }

  /** Writes a version's files (not its metadata) into an empty directory. */
  @FunctionalInterface
  interface Contents {
    /** Writes the files into {@code dir} and returns their content hash. */
    String write(Path dir) throws IOException;
  }

  /** One version's record: its metadata text and the directory holding its files. */
  record Stored(String metadataJson, Path dir) {}

  /** The aliases and archive marks of one name. */
  record State(Map<String, Integer> aliases, Set<Integer> archived) {}

  /**
   * Writes {@code files} into a staging directory, forces them to disk and publishes them, with
   * {@code metadata}, as the next version of {@code name}: whole, or not at all.
   *
   * @return the new version's number
   */
  int add(String name, Contents files, Metadata metadata) throws IOException;

  /**
   * Adds the version in {@code dir} (files and {@code metadata.json}) under its own number, unless
   * {@code name} already has that number: a store seeded from the versions shipped with a model.
   *
   * @return whether it was added
   */
  boolean seed(String name, int version, Path dir, String contentHash, String metadataJson)
      throws IOException;

  /** Every name with at least one version, sorted. */
  List<String> names();

  /** The versions of {@code name}, ascending. */
  List<Integer> versions(String name);

  /**
   * The record of {@code name@version}.
   *
   * @throws java.util.NoSuchElementException when there is no such version
   */
  Stored get(String name, int version);

  /** The aliases and archive marks of {@code name}. */
  State state(String name);

  /**
   * Points {@code alias} of {@code name} at {@code version}.
   *
   * @return the version it pointed at before, or 0
   * @throws java.util.NoSuchElementException when the version does not exist
   * @throws IllegalStateException when the version is archived
   */
  int setAlias(String name, String alias, int version) throws IOException;

  /**
   * Marks {@code name@version} archived.
   *
   * @throws IllegalStateException while an alias points at it
   */
  void archive(String name, int version) throws IOException;

  /** The message for a version that is not there. */
  static String notFound(String name, int version) {
    return "adapter version not found: " + name + "@" + version;
  }

  /** The message for an alias moved onto an archived version. */
  static String archivedTarget(String name, int version) {
    return name + "@" + version + " is archived";
  }

  /** The message for archiving a version an alias still points at. */
  static String stillAliased(String name, int version, String alias) {
    return name + "@" + version + " is aliased as " + alias + "; move the alias first";
  }
}
