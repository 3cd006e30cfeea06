package dev.protorad.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * A signed statement "writer W's chain reached sequence S with record hash H". An {@code ANCHOR}
 * says the same about the last event removed by a retention purge: the remaining chain starts after
 * it.
 *
 * @param interval the most events the writer lets pass between two checkpoints
 */
record Checkpoint(
    Kind kind,
    String writerId,
    long sequence,
    String recordHash,
    Instant time,
    long interval,
    String keyId,
    String signature) {

  enum Kind {
    CHECKPOINT,
    ANCHOR
  }

  private static final ObjectMapper MAPPER = new ObjectMapper();

  Checkpoint withSignature(String keyId, String signature) {
    return new Checkpoint(kind, writerId, sequence, recordHash, time, interval, keyId, signature);
  }

  /** The bytes the signature covers: everything but the signature. */
  byte[] signedBytes() {
    return unsigned().write().getBytes(StandardCharsets.UTF_8);
  }

  String toJson() {
    return unsigned().put("signature", signature).write();
  }

  static Checkpoint parse(String json) {
    try {
      JsonNode n = MAPPER.readTree(json);
      Checkpoint c =
          new Checkpoint(
              Kind.valueOf(n.get("kind").textValue()),
              n.get("writerId").textValue(),
              n.get("sequence").longValue(),
              n.get("recordHash").textValue(),
              Instant.parse(n.get("time").textValue()),
              n.get("interval").longValue(),
              n.get("keyId").textValue(),
              n.get("signature").textValue());
      if (!c.toJson().equals(json)) {
        throw new IllegalArgumentException("checkpoint is not in canonical form");
      }
      return c;
    } catch (JsonProcessingException | RuntimeException e) {
      throw new IllegalArgumentException("unreadable checkpoint", e);
    }
  }

  private CanonicalJson unsigned() {
    return new CanonicalJson()
        .put("kind", kind.name())
        .put("writerId", writerId)
        .put("sequence", sequence)
        .put("recordHash", recordHash)
        .put("time", time.toString())
        .put("interval", interval)
        .put("keyId", keyId);
  }
}
