package dev.protorad.engine.nf4;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.protorad.engine.safetensors.DType;
import dev.protorad.engine.safetensors.SafetensorsException;
import dev.protorad.engine.safetensors.SafetensorsWriter;
import dev.protorad.engine.safetensors.TensorInfo;
import dev.protorad.engine.safetensors.TensorSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bitsandbytes 4-bit serialization of a weight {@code X.weight}, as {@code Params4bit} and
 * {@code QuantState.as_dict(packed=True)} write it: {@code X.weight} (U8 {@code [ceil(n/2), 1]}),
 * {@code X.weight.absmax} (U8), {@code X.weight.quant_map} (F32[16]), {@code
 * X.weight.nested_absmax} (F32), {@code X.weight.nested_quant_map} (F32[256]) and {@code
 * X.weight.quant_state.bitsandbytes__nf4} (U8: the UTF-8 bytes of a JSON object with quant_type,
 * blocksize, dtype, shape, nested_blocksize, nested_dtype, nested_offset).
 */
public final class BnbLayout {
  /** Suffix of the packed quant-state tensor for NF4. */
  public static final String QUANT_STATE_NF4 = ".quant_state.bitsandbytes__nf4";

  /** Suffix of the packed quant-state tensor for FP4 (refused). */
  public static final String QUANT_STATE_FP4 = ".quant_state.bitsandbytes__fp4";

  private static final ObjectMapper JSON = new ObjectMapper();

  private BnbLayout() {}

  /** Whether {@code source} holds {@code weightName} in the bitsandbytes 4-bit layout. */
  public static boolean isQuantized(TensorSource source, String weightName) {
    return source.contains(weightName + QUANT_STATE_NF4)
        || source.contains(weightName + QUANT_STATE_FP4);
  }

  /** The names of the tensors {@link #write} adds for {@code weightName}. */
  public static List<String> tensorNames(String weightName) {
    return List.of(
        weightName,
        weightName + ".absmax",
        weightName + ".quant_map",
        weightName + ".nested_absmax",
        weightName + ".nested_quant_map",
        weightName + QUANT_STATE_NF4);
  }

  /**
   * Adds {@code t} under {@code weightName} (e.g. {@code model.layers.0.self_attn.q_proj.weight}).
   *
   * @param dtype the original weight's torch dtype name, recorded in the quant state ({@code
   *     float16}, {@code bfloat16} or {@code float32})
   */
  public static void write(SafetensorsWriter writer, String weightName, Nf4Tensor t, String dtype) {
    requireNonNull(writer, "writer");
    requireNonNull(weightName, "weightName");
    requireNonNull(t, "t");
    requireNonNull(dtype, "dtype");
    writer.addBytes(weightName, DType.U8, new long[] {t.packed().length, 1}, t.packed());
    writer.addBytes(
        weightName + ".absmax", DType.U8, new long[] {t.absmaxCodes().length}, t.absmaxCodes());
    writer.addFloats(weightName + ".quant_map", DType.F32, new long[] {16}, t.quantMap());
    writer.addFloats(
        weightName + ".nested_absmax",
        DType.F32,
        new long[] {t.nestedAbsmax().length},
        t.nestedAbsmax());
    writer.addFloats(
        weightName + ".nested_quant_map", DType.F32, new long[] {256}, t.nestedQuantMap());
    byte[] state = quantState(t, dtype).getBytes(StandardCharsets.UTF_8);
    writer.addBytes(weightName + QUANT_STATE_NF4, DType.U8, new long[] {state.length}, state);
  }

  /** The quant-state JSON, keyed and spaced as Python's {@code json.dumps} writes it. */
  public static String quantState(Nf4Tensor t, String dtype) {
    return "{\"quant_type\": \"nf4\", \"blocksize\": "
        + Nf4Tensor.BLOCK_SIZE
        + ", \"dtype\": \""
        + dtype
        + "\", \"shape\": ["
        + t.rows()
        + ", "
        + t.cols()
        + "], \"nested_blocksize\": "
        + Nf4Tensor.NESTED_BLOCK_SIZE
        + ", \"nested_dtype\": \"float32\", \"nested_offset\": "
        + pythonFloat(t.absmaxOffset())
        + "}";
  }

  /**
   * Reads {@code weightName} from the bitsandbytes layout, using the stored maps as they are.
   *
   * @throws SafetensorsException naming the tensor when a part is missing, has the wrong size or
   *     dtype, or the quant state is not NF4 with blocks of 64 and double quantization
   */
  public static Nf4Tensor read(TensorSource source, String weightName) throws IOException {
    requireNonNull(source, "source");
    requireNonNull(weightName, "weightName");
    if (source.contains(weightName + QUANT_STATE_FP4)) {
      throw error(source, weightName, "FP4 quantization is unsupported (expected: nf4)");
    }
    JsonNode state = state(source, weightName);
    long[] shape = shape(source, weightName, state);
    float offset = (float) state.get("nested_offset").asDouble();
    int rows = (int) shape[0];
    int cols = (int) shape[1];
    long n = (long) rows * cols;
    long blocks = Nf4Tensor.ceilDiv(n, Nf4Tensor.BLOCK_SIZE);
    byte[] packed = part(source, weightName, "", DType.U8, (n + 1) / 2);
    byte[] codes = part(source, weightName, ".absmax", DType.U8, blocks);
    float[] quantMap = floats(source, weightName + ".quant_map", 16);
    float[] nestedAbsmax =
        floats(
            source,
            weightName + ".nested_absmax",
            Nf4Tensor.ceilDiv(blocks, Nf4Tensor.NESTED_BLOCK_SIZE));
    float[] nestedMap = floats(source, weightName + ".nested_quant_map", 256);
    if (!Float.isFinite(offset)) {
      throw error(source, weightName + QUANT_STATE_NF4, "nested_offset is not finite");
    }
    return new Nf4Tensor(rows, cols, packed, codes, nestedAbsmax, nestedMap, offset, quantMap);
  }

  /** The {@code dtype} recorded in the quant state of {@code weightName}. */
  public static String dtype(TensorSource source, String weightName) throws IOException {
    return state(source, weightName).path("dtype").asText("float16");
  }

  private static JsonNode state(TensorSource source, String weightName) throws IOException {
    String name = weightName + QUANT_STATE_NF4;
    byte[] raw = part(source, weightName, QUANT_STATE_NF4, DType.U8, -1);
    JsonNode state;
    try {
      state = JSON.readTree(new String(raw, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw error(source, name, "quant state is not JSON");
    }
    Map<String, Object> expected = new LinkedHashMap<>();
    expected.put("quant_type", "nf4");
    expected.put("blocksize", Nf4Tensor.BLOCK_SIZE);
    expected.put("nested_blocksize", Nf4Tensor.NESTED_BLOCK_SIZE);
    for (Map.Entry<String, Object> e : expected.entrySet()) {
      JsonNode v = state == null ? null : state.get(e.getKey());
      if (v == null || !v.asText().equals(String.valueOf(e.getValue()))) {
        throw error(
            source,
            name,
            e.getKey()
                + " "
                + v
                + " (expected: "
                + e.getValue()
                + "; only NF4 with double quantization in blocks of 64/256 is supported)");
      }
    }
    if (!state.path("nested_offset").isNumber()) {
      throw error(source, name, "nested_offset missing (expected: a number)");
    }
    return state;
  }

  private static long[] shape(TensorSource source, String weightName, JsonNode state)
      throws SafetensorsException {
    JsonNode shape = state.get("shape");
    if (shape == null
        || !shape.isArray()
        || shape.size() != 2
        || !shape.get(0).canConvertToInt()
        || !shape.get(1).canConvertToInt()
        || shape.get(0).intValue() <= 0
        || shape.get(1).intValue() <= 0) {
      throw error(
          source,
          weightName + QUANT_STATE_NF4,
          "shape " + shape + " (expected: [rows, cols] of positive integers)");
    }
    return new long[] {shape.get(0).intValue(), shape.get(1).intValue()};
  }

  private static byte[] part(
      TensorSource source, String weightName, String suffix, DType dtype, long elements)
      throws SafetensorsException {
    String name = weightName + suffix;
    TensorInfo info = source.info(name);
    if (info.dtype() != dtype) {
      throw error(source, name, "dtype " + info.dtype() + " (expected: " + dtype + ")");
    }
    if (elements >= 0 && info.elements() != elements) {
      throw error(source, name, info.elements() + " elements (expected: " + elements + ")");
    }
    return source.bytes(name);
  }

  private static float[] floats(TensorSource source, String name, long elements)
      throws SafetensorsException {
    TensorInfo info = source.info(name);
    if (info.dtype() != DType.F32 || info.elements() != elements) {
      throw error(
          source,
          name,
          info.dtype()
              + " with "
              + info.elements()
              + " elements (expected: F32 with "
              + elements
              + ")");
    }
    return source.finiteFloats(name);
  }

  private static SafetensorsException error(TensorSource source, String name, String detail)
      throws SafetensorsException {
    return new SafetensorsException(
        source.contains(name) ? source.fileOf(name) : source.location(), name, detail);
  }

  private static String pythonFloat(float f) {
    // repr() of the Python float the offset becomes in bnb: the fp32 value, widened to double.
    String s = Double.toString(f);
    return s.contains("E") ? s.replace("E", "e") : s;
  }
}
