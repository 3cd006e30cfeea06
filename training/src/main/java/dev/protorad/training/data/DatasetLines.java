package dev.protorad.training.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.Writer;

/** The one JSONL line format datasets are written in: {@code {"note", "label", "split"}}. */
public final class DatasetLines {

  private static final ObjectMapper JSON = new ObjectMapper();

  private DatasetLines() {}

  public static void write(Writer w, Example example, Split split) throws IOException {
    w.write(line(example, split));
    w.write('\n');
  }

  private static String line(Example example, Split split) throws JsonProcessingException {
    ObjectNode line = JSON.createObjectNode();
    line.put("note", example.note());
    line.put("label", example.label());
    line.put("split", split.jsonName());
    return JSON.writeValueAsString(line);
  }
}
