package dev.protorad.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/** Canonical JSON of events, and strict parsing of stored records. */
final class EventCodec {

  static final int FORMAT = 1;

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static final Set<String> KEYS =
      new TreeSet<>(
          List.of(
              "action",
              "adapterVersion",
              "baseFingerprint",
              "breakGlassReason",
              "clientAddress",
              "confidence",
              "labelId",
              "noteHmac",
              "noteHmacKeyId",
              "onBehalfOf",
              "orderId",
              "outcome",
              "patientRef",
              "predictionId",
              "previousHash",
              "principal",
              "recordHash",
              "roles",
              "sequence",
              "statusCode",
              "time",
              "traceId",
              "v",
              "writerId"));

  private EventCodec() {}

  /** Every field except {@code recordHash}. */
  static CanonicalJson fields(AuditEvent e) {
    EventDraft d = e.details();
    CanonicalJson json =
        new CanonicalJson()
            .put("v", (long) FORMAT)
            .put("writerId", e.writerId())
            .put("sequence", e.sequence())
            .put("time", e.time().toString())
            .put("previousHash", e.previousHash())
            .put("action", d.action())
            .put("outcome", d.outcome().name())
            .put("statusCode", d.statusCode())
            .put("principal", d.principal())
            .put("onBehalfOf", d.onBehalfOf())
            .put("roles", d.roles())
            .put("clientAddress", d.clientAddress())
            .put("orderId", d.orderId())
            .put("patientRef", d.patientRef())
            .put("noteHmac", d.noteHmac())
            .put("noteHmacKeyId", d.noteHmacKeyId())
            .put("labelId", d.labelId())
            .put("confidence", d.confidence())
            .put("adapterVersion", d.adapterVersion())
            .put("baseFingerprint", d.baseFingerprint())
            .put("traceId", d.traceId())
            .put("breakGlassReason", d.breakGlassReason())
            .put("predictionId", d.predictionId());
    if (d.occurrences() != 1) {
      json.put("occurrences", d.occurrences());
    }
    return json;
  }

  /**
   * Parses a stored record. Throws {@link IllegalArgumentException} when it is not exactly the
   * canonical form of a valid event (unknown or missing keys, wrong types, other spacing).
   */
  static AuditEvent parse(String json) {
    JsonNode node = readTree(json);
    checkKeys(node);
    if (node.get("v").asInt() != FORMAT || !node.get("v").isIntegralNumber()) {
      throw new IllegalArgumentException("unsupported record format");
    }
    AuditEvent event =
        new AuditEvent(
            text(node, "writerId"),
            integral(node, "sequence"),
            instant(node),
            draft(node),
            text(node, "previousHash"),
            text(node, "recordHash"));
    if (!event.toJson().equals(json)) {
      throw new IllegalArgumentException("record is not in canonical form");
    }
    return event;
  }

  private static EventDraft draft(JsonNode n) {
    return new EventDraft(
        text(n, "action"),
        outcome(n),
        text(n, "statusCode"),
        text(n, "principal"),
        text(n, "onBehalfOf"),
        roles(n),
        text(n, "clientAddress"),
        text(n, "orderId"),
        text(n, "patientRef"),
        text(n, "noteHmac"),
        text(n, "noteHmacKeyId"),
        text(n, "labelId"),
        confidence(n),
        text(n, "adapterVersion"),
        text(n, "baseFingerprint"),
        text(n, "traceId"),
        text(n, "breakGlassReason"),
        text(n, "predictionId"),
        n.has("occurrences") ? integral(n, "occurrences") : 1);
  }

  private static JsonNode readTree(String json) {
    try {
      JsonNode node = MAPPER.readTree(json);
      if (node == null || !node.isObject()) {
        throw new IllegalArgumentException("record is not a JSON object");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("record is not valid JSON", e);
    }
  }

  private static void checkKeys(JsonNode node) {
    Set<String> keys = new TreeSet<>();
    node.fieldNames().forEachRemaining(keys::add);
    keys.remove("occurrences");
    if (!keys.equals(KEYS)) {
      throw new IllegalArgumentException("record has unexpected or missing keys");
    }
  }

  private static String text(JsonNode n, String key) {
    return field(n, key, JsonNode::isTextual, "a string").textValue();
  }

  private static long integral(JsonNode n, String key) {
    return field(n, key, v -> v.isIntegralNumber() && v.canConvertToLong(), "an integer")
        .longValue();
  }

  /** The value of {@code key}, which must pass {@code check} (else: "key: not {@code what}"). */
  private static JsonNode field(JsonNode n, String key, Predicate<JsonNode> check, String what) {
    JsonNode v = n.get(key);
    if (!check.test(v)) {
      throw new IllegalArgumentException(key + ": not " + what);
    }
    return v;
  }

  private static Instant instant(JsonNode n) {
    try {
      return Instant.parse(text(n, "time"));
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("time: not an ISO-8601 instant", e);
    }
  }

  private static Outcome outcome(JsonNode n) {
    try {
      return Outcome.valueOf(text(n, "outcome"));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("outcome: unknown value", e);
    }
  }

  private static List<String> roles(JsonNode n) {
    JsonNode v = n.get("roles");
    if (!v.isArray()) {
      throw new IllegalArgumentException("roles: not an array");
    }
    List<String> roles = new ArrayList<>();
    for (Iterator<JsonNode> it = v.elements(); it.hasNext(); ) {
      JsonNode r = it.next();
      if (!r.isTextual()) {
        throw new IllegalArgumentException("roles: not all strings");
      }
      roles.add(r.textValue());
    }
    return roles;
  }

  private static @Nullable Double confidence(JsonNode n) {
    if (n.get("confidence").isNull()) {
      return null;
    }
    return field(n, "confidence", JsonNode::isNumber, "a number").doubleValue();
  }
}
