package dev.protorad.server.adapters;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.protorad.clinical.gate.LexicalModel;
import dev.protorad.clinical.gate.ReviewGate;
import dev.protorad.clinical.gate.VersionGate;
import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.engine.peft.LabelVocabulary;
import dev.protorad.engine.peft.LoraAdapter;
import dev.protorad.training.eval.EvalCurves;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * Adapter versions: each holds the PEFT files ({@code adapter_config.json}, {@code
 * adapter_model.safetensors}), a review gate's lexical model when it has one, and its {@code
 * metadata.json}; each adapter name has aliases and archive marks. Versions are never rewritten;
 * aliases move only through {@link #setAlias}.
 *
 * <p>Where the records live is the store's choice at opening: {@link #open} keeps them in files
 * beside the versions ({@code <root>/<name>/<version>/}, {@code <root>/<name>/state.json}), under a
 * file lock that every process sharing the directory takes; {@link #openShared} keeps them in a
 * database every replica shares, with each version's files content-addressed under {@code
 * <root>/blobs/}. Either way a version is staged, forced to disk and published by one atomic
 * rename, so it is complete or absent, and version numbers and alias moves are decided one at a
 * time across processes.
 */
public final class AdapterStore {

  /** Metadata file inside a version directory. */
  public static final String METADATA_FILE = "metadata.json";

  static final String TEMP_PREFIX = FileRecords.TEMP_PREFIX;

  static final List<String> PEFT_FILES = List.of(LoraAdapter.CONFIG_FILE, LoraAdapter.WEIGHTS_FILE);

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Path root;
  private final ModelConfig base;
  private final String baseFingerprint;
  private final Clock clock;
  private final VersionRecords records;

  private AdapterStore(
      Path root, ModelConfig base, String baseFingerprint, Clock clock, VersionRecords records) {
    this.root = root;
    this.base = base;
    this.baseFingerprint = baseFingerprint;
    this.clock = clock;
    this.records = records;
  }

  /**
   * Opens (creating if needed) the store under {@code root} for adapters of {@code base}, with its
   * records in files, deleting what an interrupted save left behind.
   */
  public static AdapterStore open(Path root, ModelConfig base, String baseFingerprint)
      throws IOException {
    return open(root, base, baseFingerprint, Clock.systemUTC());
  }

  /** As {@link #open(Path, ModelConfig, String)} with the clock that stamps new versions. */
  public static AdapterStore open(Path root, ModelConfig base, String baseFingerprint, Clock clock)
      throws IOException {
    checkArguments(root, base, baseFingerprint, clock);
    return new AdapterStore(root, base, baseFingerprint, clock, FileRecords.open(root));
  }

  /**
   * Opens the store whose records are in {@code database} (the prediction schema, migrated) and
   * whose files are content-addressed under {@code root/blobs}: the registry that replicas sharing
   * the database and the volume agree on.
   */
  public static AdapterStore openShared(
      Path root, ModelConfig base, String baseFingerprint, DataSource database, Clock clock)
      throws IOException {
    checkArguments(root, base, baseFingerprint, clock);
    requireNonNull(database, "database");
    return new AdapterStore(
        root, base, baseFingerprint, clock, DatabaseRecords.open(root, database, clock));
  }

  private static void checkArguments(
      Path root, ModelConfig base, String baseFingerprint, Clock clock) {
    requireNonNull(root, "root");
    requireNonNull(base, "base");
    requireNonNull(baseFingerprint, "baseFingerprint");
    requireNonNull(clock, "clock");
  }

  /** The directory the store lives in. */
  public Path root() {
    return root;
  }

  /** The base architecture adapters are checked against. */
  public ModelConfig base() {
    return base;
  }

  /** The base fingerprint new versions record. */
  public String baseFingerprint() {
    return baseFingerprint;
  }

  /**
   * Registers {@code adapter} as the next version of {@code name}.
   *
   * @return the new version
   * @throws IOException when writing fails; then no version is registered
   */
  public AdapterVersion register(String name, LoraAdapter adapter, Lineage lineage)
      throws IOException {
    return register(name, adapter, lineage, null);
  }

  /**
   * Registers {@code adapter} as the next version of {@code name}, with a review gate fitted for
   * it: the gate's parameters go into {@code metadata.json} and its lexical model beside the PEFT
   * files (both covered by the content hash).
   *
   * @param gate the gate, or null for a version that uses the server's review threshold
   */
  public AdapterVersion register(
      String name, LoraAdapter adapter, Lineage lineage, @Nullable VersionGate gate)
      throws IOException {
    return register(name, adapter, lineage, gate, null);
  }

  /**
   * Registers {@code adapter} as the next version of {@code name}, with its review gate and what
   * the pictures of its evaluation are drawn from ({@link EvalCurves#FILE}, covered by the content
   * hash like the rest).
   *
   * @param gate the gate, or null for a version that uses the server's review threshold
   * @param curves its evaluation and training loss, or null when there are none
   */
  public AdapterVersion register(
      String name,
      LoraAdapter adapter,
      Lineage lineage,
      @Nullable VersionGate gate,
      @Nullable EvalCurves curves)
      throws IOException {
    AdapterRef.requireName(name);
    requireNonNull(adapter, "adapter");
    requireNonNull(lineage, "lineage");
    Lineage recorded = recording(lineage, adapter);
    int version =
        records.add(
            name,
            dir -> {
              adapter.write(dir);
              if (gate != null) {
                gate.lexical().write(dir.resolve(LexicalModel.FILE));
              }
              if (curves != null) {
                Files.writeString(dir.resolve(EvalCurves.FILE), curves.toJson());
              }
              return contentHash(dir);
            },
            (v, hash) ->
                toJson(metadata(name, v, hash, recorded), gate == null ? null : gate.gate()));
    return describe(name, version);
  }

  /**
   * Adds the versions in {@code bundled} ({@code <name>/<version>/} directories, as a model ships
   * them) under their own numbers and metadata, each unless its number is taken.
   *
   * @return how many were added
   * @throws IOException also when a version's files do not match the content hash it records
   */
  public int seed(Path bundled) throws IOException {
    int added = 0;
    try (Stream<Path> names = Files.list(bundled)) {
      for (Path nameDir : names.filter(Files::isDirectory).sorted().toList()) {
        added += seedName(nameDir);
      }
    }
    return added;
  }

  private int seedName(Path nameDir) throws IOException {
    int added = 0;
    try (Stream<Path> versions = Files.list(nameDir)) {
      for (Path dir :
          versions
              .filter(p -> Files.isRegularFile(p.resolve(METADATA_FILE)))
              .sorted(Comparator.comparing(p -> Integer.parseInt(p.getFileName().toString())))
              .toList()) {
        String json = Files.readString(dir.resolve(METADATA_FILE));
        AdapterMetadata m = fromJson(json);
        String hash = contentHash(dir);
        if (!hash.equals(m.contentHash())) {
          throw new IOException(dir + ": files do not match the content hash in " + METADATA_FILE);
        }
        added += records.seed(m.name(), m.version(), dir, hash, json) ? 1 : 0;
      }
    }
    return added;
  }

  /**
   * Validates the PEFT files in {@code dir} against the base (as the engine does: pickle, NaN/Inf,
   * shape mismatches and unsupported options are refused) and registers them as the next version.
   */
  public AdapterVersion importAdapter(String name, Path dir, Lineage lineage) throws IOException {
    requireNonNull(dir, "dir");
    LoraAdapter adapter = read(dir, base);
    return register(name, adapter, lineage);
  }

  /**
   * Reads the PEFT files of {@code ref}, with the label vocabulary its metadata records (an adapter
   * trained with a label-vocabulary softmax).
   */
  public LoraAdapter load(AdapterRef ref) throws IOException {
    AdapterVersion v = get(ref);
    // The version's metadata is already read: only the PEFT files come from disk here.
    return withRecordedVocabulary(
        LoraAdapter.read(v.dir(), base), v.metadata().hyperParameters(), v.dir());
  }

  /**
   * Reads the adapter in {@code dir} (a version directory, or bare PEFT files) for {@code base},
   * with the label vocabulary its {@code metadata.json} records, if any.
   *
   * @throws IOException also when the recorded vocabulary cannot be read
   */
  public static LoraAdapter read(Path dir, ModelConfig base) throws IOException {
    LoraAdapter adapter = LoraAdapter.read(dir, base);
    AdapterMetadata m = recordedMetadata(dir);
    return m == null ? adapter : withRecordedVocabulary(adapter, m.hyperParameters(), dir);
  }

  private static LoraAdapter withRecordedVocabulary(
      LoraAdapter adapter, Map<String, String> hyperParameters, Path dir) throws IOException {
    try {
      return adapter.withLabelVocabulary(LabelVocabulary.recordedIn(hyperParameters).orElse(null));
    } catch (IllegalArgumentException e) {
      throw new IOException(dir.resolve(METADATA_FILE) + ": " + e.getMessage(), e);
    }
  }

  /**
   * {@code lineage} with the label vocabulary of {@code adapter} among its hyper-parameters when it
   * has one, so the version records what its labels are scored against.
   */
  private static Lineage recording(Lineage lineage, LoraAdapter adapter) {
    if (adapter.labelVocabulary().isEmpty()) {
      return lineage;
    }
    Map<String, String> hp = new LinkedHashMap<>(lineage.hyperParameters());
    hp.put(LabelVocabulary.HYPER_PARAMETER, adapter.labelVocabulary().get().recorded());
    return new Lineage(
        lineage.datasetHash(),
        hp,
        lineage.template(),
        lineage.metrics(),
        lineage.createdBy(),
        lineage.jobId(),
        lineage.parent());
  }

  /** The version {@code ref} names now (aliases and bare names resolved). */
  public AdapterVersion get(AdapterRef ref) {
    requireNonNull(ref, "ref");
    // On the request path: one read of the name's state serves resolution and the description.
    VersionRecords.State state = records.state(ref.name());
    return describe(ref.name(), resolve(ref, state), state);
  }

  /** Every version, ordered by name then version; archived ones only when asked. */
  public List<AdapterVersion> list(Optional<String> name, boolean includeArchived) {
    requireNonNull(name, "name");
    List<AdapterVersion> out = new ArrayList<>();
    for (String n : records.names()) {
      if (name.isPresent() && !name.get().equals(n)) {
        continue;
      }
      VersionRecords.State state = records.state(n);
      for (int v : records.versions(n)) {
        if (includeArchived || !state.archived().contains(v)) {
          out.add(describe(n, v, state));
        }
      }
    }
    return out;
  }

  /**
   * The PEFT files of {@code ref}, for export (its metadata is {@link
   * AdapterVersion#metadataJson}).
   */
  public List<Path> files(AdapterRef ref) {
    Path dir = get(ref).dir();
    return PEFT_FILES.stream().map(dir::resolve).toList();
  }

  /**
   * What the pictures of {@code version}'s evaluation are drawn from, when it recorded them.
   *
   * @throws UncheckedIOException when the recorded file cannot be read
   */
  public Optional<EvalCurves> evaluation(AdapterVersion version) {
    Path file = version.dir().resolve(EvalCurves.FILE);
    return Files.isRegularFile(file) ? Optional.of(readCurves(file)) : Optional.empty();
  }

  private static EvalCurves readCurves(Path file) {
    try {
      return EvalCurves.fromJson(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Points {@code alias} of {@code name} at {@code version}.
   *
   * @return the version it pointed at before, or 0
   * @throws NoSuchElementException when the version does not exist
   * @throws IllegalStateException when the version is archived
   */
  public int setAlias(String name, String alias, int version) throws IOException {
    AdapterRef.requireName(name);
    AdapterRef.requireAlias(alias);
    return records.setAlias(name, alias, version);
  }

  /**
   * Archives {@code ref}: its files stay for lineage, it stops resolving for serving.
   *
   * @throws IllegalStateException while an alias points at it
   */
  public AdapterVersion archive(AdapterRef ref) throws IOException {
    requireNonNull(ref, "ref");
    int version = resolve(ref, records.state(ref.name()));
    records.archive(ref.name(), version);
    return describe(ref.name(), version);
  }

  // ---- resolution ----

  /**
   * The version {@code ref} names under {@code state}. An explicit version is taken as it is: the
   * records refuse one that does not exist when it is read or archived.
   */
  private int resolve(AdapterRef ref, VersionRecords.State state) {
    if (ref.version() > 0) {
      return ref.version();
    }
    if (ref.alias() != null) {
      Integer v = state.aliases().get(ref.alias());
      if (v == null) {
        throw new NoSuchElementException("adapter alias not found: " + ref);
      }
      return v;
    }
    Integer production = state.aliases().get("production");
    if (production != null) {
      return production;
    }
    return records.versions(ref.name()).stream()
        .filter(v -> !state.archived().contains(v))
        .max(Comparator.naturalOrder())
        .orElseThrow(() -> new NoSuchElementException("adapter not found: " + ref.name()));
  }

  private AdapterVersion describe(String name, int version) {
    return describe(name, version, records.state(name));
  }

  private AdapterVersion describe(String name, int version, VersionRecords.State state) {
    VersionRecords.Stored stored = records.get(name, version);
    List<String> aliases = new ArrayList<>();
    state
        .aliases()
        .forEach(
            (a, v) -> {
              if (v == version) {
                aliases.add(a);
              }
            });
    try {
      AdapterMetadata metadata = fromJson(stored.metadataJson());
      long size = 0;
      for (String f : PEFT_FILES) {
        size += Files.size(stored.dir().resolve(f));
      }
      return new AdapterVersion(
          metadata,
          aliases,
          state.archived().contains(version),
          stored.dir(),
          size,
          stored.metadataJson());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- metadata ----

  private AdapterMetadata metadata(String name, int version, String hash, Lineage l) {
    PromptTemplate t = l.template();
    return new AdapterMetadata(
        name,
        version,
        hash,
        baseFingerprint,
        l.datasetHash(),
        l.hyperParameters(),
        t.version(),
        t.text(),
        t.labelSuffix(),
        l.metrics(),
        l.createdBy(),
        clock.instant(),
        l.jobId(),
        l.parent());
  }

  static String toJson(AdapterMetadata m) throws IOException {
    return toJson(m, null);
  }

  static String toJson(AdapterMetadata m, @Nullable ReviewGate gate) throws IOException {
    ObjectNode node = JSON.createObjectNode();
    node.put("name", m.name());
    node.put("version", m.version());
    node.put("content_hash", m.contentHash());
    node.put("base_fingerprint", m.baseFingerprint());
    node.put("dataset_hash", m.datasetHash());
    ObjectNode hp = node.putObject("hyper_parameters");
    new TreeMap<>(m.hyperParameters()).forEach(hp::put);
    ObjectNode template = node.putObject("prompt_template");
    template.put("version", m.promptTemplateVersion());
    template.put("text", m.promptTemplate());
    template.put("label_suffix", m.labelSuffix());
    ObjectNode metrics = node.putObject("metrics");
    new TreeMap<>(m.metrics()).forEach(metrics::put);
    node.put("created_by", m.createdBy());
    node.put("created_at", m.createdAt().toString());
    node.put("job_id", m.jobId());
    if (!m.parent().isEmpty()) {
      node.put("parent", m.parent());
    }
    if (gate != null) {
      gate.writeTo(node);
    }
    return JSON.writeValueAsString(node) + "\n";
  }

  /**
   * The prompt template version an adapter directory records in its {@code metadata.json}; null for
   * a bare PEFT directory without one ({@link PromptTemplate#select} decides then).
   */
  public static @Nullable String recordedTemplateVersion(Path dir) throws IOException {
    AdapterMetadata metadata = recordedMetadata(dir);
    return metadata == null ? null : metadata.promptTemplateVersion();
  }

  /** The {@code metadata.json} in {@code dir}, or null when there is none. */
  private static @Nullable AdapterMetadata recordedMetadata(Path dir) throws IOException {
    Path file = dir.resolve(METADATA_FILE);
    return Files.isRegularFile(file) ? fromJson(Files.readString(file)) : null;
  }

  static AdapterMetadata fromJson(String json) throws IOException {
    JsonNode n = JSON.readTree(json);
    Map<String, String> hp = new LinkedHashMap<>();
    n.path("hyper_parameters").properties().forEach(e -> hp.put(e.getKey(), e.getValue().asText()));
    Map<String, Double> metrics = new LinkedHashMap<>();
    n.path("metrics").properties().forEach(e -> metrics.put(e.getKey(), e.getValue().asDouble()));
    JsonNode t = n.path("prompt_template");
    return new AdapterMetadata(
        n.path("name").asText(),
        n.path("version").asInt(),
        n.path("content_hash").asText(),
        n.path("base_fingerprint").asText(),
        n.path("dataset_hash").asText(),
        hp,
        t.path("version").asText(),
        t.path("text").asText(),
        t.path("label_suffix").asText(),
        metrics,
        n.path("created_by").asText(),
        Instant.parse(n.path("created_at").asText()),
        n.path("job_id").asText(),
        n.path("parent").asText(""));
  }

  /**
   * SHA-256 over the PEFT files and, when there is one, the lexical model of the review gate: for
   * each, in name order, its name, a NUL, and its bytes.
   */
  static String contentHash(Path dir) throws IOException {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      TreeSet<String> files = new TreeSet<>(PEFT_FILES);
      for (String extra : List.of(LexicalModel.FILE, EvalCurves.FILE)) {
        if (Files.isRegularFile(dir.resolve(extra))) {
          files.add(extra);
        }
      }
      for (String f : files) {
        sha.update(f.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
        sha.update(Files.readAllBytes(dir.resolve(f)));
      }
      return HexFormat.of().formatHex(sha.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
