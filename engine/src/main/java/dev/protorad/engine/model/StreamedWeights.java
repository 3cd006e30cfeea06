package dev.protorad.engine.model;

import static java.util.Objects.requireNonNull;

import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.checkpoint.BaseLayer;
import dev.protorad.engine.checkpoint.BaseStream;
import dev.protorad.engine.checkpoint.Projection;
import dev.protorad.engine.nf4.Nf4Tensor;
import dev.protorad.engine.safetensors.HalfFloats;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The weights of a {@link BaseStream}, read in the order a {@link LlamaModel} asks for them. Holds
 * only the layer being copied, and drops it once each of its nine tensors has been handed out.
 */
final class StreamedWeights implements DecoderWeights {
  private static final int PARTS_PER_LAYER = Projection.values().length + 2;

  private final BaseStream stream;
  @Nullable private BaseLayer layer;
  private int handedOut;

  StreamedWeights(BaseStream stream) {
    this.stream = requireNonNull(stream, "stream");
  }

  @FunctionalInterface
  private interface Read<T> {
    T read() throws IOException;
  }

  @Override
  public ModelConfig config() {
    return stream.config();
  }

  @Override
  public float[] embedTokens() {
    return HalfFloats.f16ToFloat(read(stream::embedTokensF16));
  }

  @Override
  public float[] lmHead() {
    return HalfFloats.f16ToFloat(read(stream::lmHeadF16));
  }

  @Override
  public Optional<short[]> embedTokensF16() {
    return Optional.of(read(stream::embedTokensF16));
  }

  @Override
  public Optional<short[]> lmHeadF16() {
    return Optional.of(read(stream::lmHeadF16));
  }

  @Override
  public float[] finalNorm() {
    return read(stream::finalNorm);
  }

  @Override
  public float[] inputNorm(int layer) {
    return handOut(layer(layer).inputNorm());
  }

  @Override
  public float[] postAttentionNorm(int layer) {
    return handOut(layer(layer).postAttentionNorm());
  }

  @Override
  public Nf4Tensor projection(int layer, Projection p) {
    return handOut(layer(layer).projection(requireNonNull(p, "p")));
  }

  /** Drops the last layer read. */
  void release() {
    layer = null;
  }

  private BaseLayer layer(int index) {
    BaseLayer current = layer;
    if (current != null && current.index() == index) {
      return current;
    }
    layer = null; // drop the previous layer before the next one is read
    current = read(stream::nextLayer);
    if (current.index() != index) {
      throw new IllegalStateException(
          "layer " + index + " asked for, but a stream gives layer " + current.index() + " next");
    }
    layer = current;
    handedOut = 0;
    return current;
  }

  private <T> T handOut(T part) {
    if (++handedOut == PARTS_PER_LAYER) {
      layer = null;
    }
    return part;
  }

  private static <T> T read(Read<T> read) {
    try {
      return read.read();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
