package dev.protorad.engine.checkpoint;

import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.nf4.Nf4Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The SHA-256 behind {@link BaseCheckpoint#fingerprint}, fed tensor by tensor in a fixed order
 * (configuration, embeddings, LM head, final norm, then each layer's norms and projections), so a
 * base read as a stream gets the same fingerprint as one held whole.
 */
final class Fingerprint {
  private final MessageDigest md;

  private Fingerprint(ModelConfig config) {
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    update("protorad-base-v1\n" + config.toJson());
  }

  static Fingerprint start(ModelConfig config) {
    return new Fingerprint(config);
  }

  void embedTokens(short[] embedTokens) {
    shorts("model.embed_tokens.weight", embedTokens);
  }

  void lmHead(short[] lmHead, boolean tied) {
    shorts(tied ? "lm_head.tied" : "lm_head.weight", lmHead);
  }

  void finalNorm(float[] norm) {
    floats("model.norm.weight", norm);
  }

  void layer(int layer, float[] inputNorm, float[] postAttentionNorm, Nf4Tensor[] projections) {
    floats(BaseCheckpoint.layerNorm(layer, "input_layernorm"), inputNorm);
    floats(BaseCheckpoint.layerNorm(layer, "post_attention_layernorm"), postAttentionNorm);
    for (Projection p : Projection.values()) {
      nf4(p.weightName(layer), projections[p.ordinal()]);
    }
  }

  /** The hex digest; ends this fingerprint. */
  String finish() {
    return HexFormat.of().formatHex(md.digest());
  }

  private void nf4(String name, Nf4Tensor t) {
    update(name + " nf4 [" + t.rows() + "," + t.cols() + "] " + t.absmaxOffset() + "\n");
    md.update(t.packed());
    md.update(t.absmaxCodes());
    floats(name + ".nested_absmax", t.nestedAbsmax());
    floats(name + ".nested_quant_map", t.nestedQuantMap());
    floats(name + ".quant_map", t.quantMap());
  }

  private void shorts(String name, short[] v) {
    update(name + " f16 " + v.length + "\n");
    ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    for (int off = 0; off < v.length; off += b.capacity() / 2) {
      int len = Math.min(b.capacity() / 2, v.length - off);
      b.clear();
      b.asShortBuffer().put(v, off, len);
      md.update(b.array(), 0, len * 2);
    }
  }

  private void floats(String name, float[] v) {
    update(name + " f32 " + v.length + "\n");
    ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    for (int off = 0; off < v.length; off += b.capacity() / 4) {
      int len = Math.min(b.capacity() / 4, v.length - off);
      b.clear();
      b.asFloatBuffer().put(v, off, len);
      md.update(b.array(), 0, len * 4);
    }
  }

  private void update(String s) {
    md.update(s.getBytes(StandardCharsets.UTF_8));
  }
}
