package dev.protorad.engine.safetensors;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A checkpoint split over several safetensors files, described by {@code
 * model.safetensors.index.json} ({@code {"metadata": {...}, "weight_map": {tensor: file}}}). Every
 * shard is opened and validated up front, and every tensor the index names must be in the shard it
 * names.
 */
public final class ShardedSafetensors implements TensorSource {
  /** The index file name Hugging Face uses. */
  public static final String INDEX_FILE = "model.safetensors.index.json";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path index;
  private final Map<String, SafetensorsFile> byTensor;
  private final Map<String, SafetensorsFile> shards;

  private ShardedSafetensors(
      Path index, Map<String, SafetensorsFile> byTensor, Map<String, SafetensorsFile> shards) {
    this.index = index;
    this.byTensor = byTensor;
    this.shards = shards;
  }

  /**
   * Opens the index and all shards it names.
   *
   * @throws SafetensorsException naming the index or shard at fault
   */
  public static ShardedSafetensors open(Path indexJson) throws SafetensorsException {
    requireNonNull(indexJson, "indexJson");
    JsonNode weightMap = weightMap(indexJson);
    Path dir = requireNonNull(indexJson.toAbsolutePath().getParent(), "index directory");
    Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
    Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
      String shardName = shardName(indexJson, e.getKey(), e.getValue());
      SafetensorsFile shard = shards.get(shardName);
      if (shard == null) {
        shard = SafetensorsFile.open(dir.resolve(shardName));
        shards.put(shardName, shard);
      }
      if (!shard.contains(e.getKey())) {
        throw new SafetensorsException(
            shard.path(), e.getKey(), "named by " + INDEX_FILE + " but absent from this shard");
      }
      byTensor.put(e.getKey(), shard);
    }
    return new ShardedSafetensors(indexJson, byTensor, shards);
  }

  /** The shard files, by file name, in index order. */
  public Map<String, SafetensorsFile> shards() {
    return Collections.unmodifiableMap(shards);
  }

  @Override
  public Path location() {
    return index;
  }

  @Override
  public Set<String> names() {
    return Collections.unmodifiableSet(byTensor.keySet());
  }

  @Override
  public Map<String, String> metadata() {
    return shards.isEmpty() ? Map.of() : shards.values().iterator().next().metadata();
  }

  @Override
  public Optional<TensorInfo> find(String name) {
    SafetensorsFile f = byTensor.get(name);
    return f == null ? Optional.empty() : f.find(name);
  }

  @Override
  public Path fileOf(String name) throws SafetensorsException {
    return shard(name).path();
  }

  @Override
  public long dataOffset(String name) throws SafetensorsException {
    return shard(name).dataOffset(name);
  }

  @Override
  public ByteBuffer window(String name, long offset, int length) throws SafetensorsException {
    return shard(name).window(name, offset, length);
  }

  private SafetensorsFile shard(String name) throws SafetensorsException {
    SafetensorsFile f = byTensor.get(name);
    if (f == null) {
      throw new SafetensorsException(index, name, "tensor missing from " + INDEX_FILE);
    }
    return f;
  }

  private static JsonNode weightMap(Path indexJson) throws SafetensorsException {
    JsonNode root;
    try {
      root = JSON.readTree(Files.readAllBytes(indexJson));
    } catch (NoSuchFileException e) {
      throw new SafetensorsException(indexJson, null, "file not found", e);
    } catch (IOException e) {
      throw new SafetensorsException(indexJson, null, "not JSON (" + e.getMessage() + ")", e);
    }
    JsonNode map = root == null ? null : root.get("weight_map");
    if (map == null || !map.isObject() || map.size() == 0) {
      throw new SafetensorsException(
          indexJson, null, "weight_map missing or empty (expected: {tensor: shard file})");
    }
    return map;
  }

  private static String shardName(Path indexJson, String tensor, JsonNode value)
      throws SafetensorsException {
    String name = value.isTextual() ? value.textValue() : "";
    if (name.isEmpty()
        || name.contains("/")
        || name.contains("\\")
        || name.equals("..")
        || !name.endsWith(".safetensors")) {
      throw new SafetensorsException(
          indexJson,
          tensor,
          "weight_map value " + value + " (expected: a .safetensors file name in this directory)");
    }
    return name;
  }
}
