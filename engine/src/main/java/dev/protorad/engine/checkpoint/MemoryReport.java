package dev.protorad.engine.checkpoint;

import static java.util.Objects.requireNonNull;

import dev.protorad.engine.ModelConfig;
import dev.protorad.engine.nf4.Nf4Tensor;
import java.util.List;
import java.util.Locale;

/**
 * Bytes a loaded base holds, per kind of tensor.
 *
 * @param kinds one line per kind, in a fixed order
 */
public record MemoryReport(List<Kind> kinds) {

  /**
   * One kind of tensor.
   *
   * @param name e.g. {@code nf4 packed codes}
   * @param parameters weight elements it stands for (0 for pure constants)
   * @param bytes bytes held
   */
  public record Kind(String name, long parameters, long bytes) {
    /** Checks the name and the counts. */
    public Kind {
      requireNonNull(name, "name");
      if (parameters < 0 || bytes < 0) {
        throw new IllegalArgumentException(
            "parameters, bytes: " + parameters + ", " + bytes + " (expected: >= 0)");
      }
    }
  }

  /** Copies the list. */
  public MemoryReport {
    kinds = List.copyOf(kinds);
  }

  /** The report of {@code base}, from the arrays it holds. */
  public static MemoryReport of(BaseCheckpoint base) {
    requireNonNull(base, "base");
    ModelConfig c = base.config();
    Nf4Totals totals = new Nf4Totals();
    for (int i = 0; i < c.numHiddenLayers(); i++) {
      for (Projection p : Projection.values()) {
        Nf4Tensor t = base.projection(i, p);
        totals.add(
            t.elements(),
            t.packedBytes(),
            t.absmaxCodes().length,
            4L * t.nestedAbsmax().length + 4L,
            4L * (t.quantMap().length + t.nestedQuantMap().length));
      }
    }
    return build(c, base.tiedEmbeddings(), totals);
  }

  /**
   * What a base of this architecture will hold once loaded, computed from the shapes alone (for
   * capacity planning; equal to {@link #of} for a loaded base).
   */
  public static MemoryReport estimate(ModelConfig config) {
    requireNonNull(config, "config");
    Nf4Totals totals = new Nf4Totals();
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      for (Projection p : Projection.values()) {
        long n = (long) p.outFeatures(config) * p.inFeatures(config);
        long blocks = (n + Nf4Tensor.BLOCK_SIZE - 1) / Nf4Tensor.BLOCK_SIZE;
        long nested = (blocks + Nf4Tensor.NESTED_BLOCK_SIZE - 1) / Nf4Tensor.NESTED_BLOCK_SIZE;
        totals.add(n, (n + 1) / 2, blocks, 4 * nested + 4, 4L * (16 + 256));
      }
    }
    return build(config, config.tieWordEmbeddings(), totals);
  }

  private static MemoryReport build(ModelConfig c, boolean tied, Nf4Totals t) {
    long embed = (long) c.vocabSize() * c.hiddenSize();
    long norms = (long) c.hiddenSize() * (2L * c.numHiddenLayers() + 1);
    return new MemoryReport(
        List.of(
            new Kind("nf4 packed codes (4-bit)", t.params, t.packed),
            new Kind("nf4 absmax codes (8-bit)", 0, t.codes),
            new Kind("nf4 nested absmax + offset (fp32)", 0, t.nested),
            new Kind("nf4 quant maps (fp32)", 0, t.maps),
            new Kind("embed_tokens (fp16)", embed, 2 * embed),
            new Kind(
                tied ? "lm_head (tied, shared)" : "lm_head (fp16)",
                tied ? 0 : embed,
                tied ? 0 : 2 * embed),
            new Kind("norms (fp32)", norms, 4 * norms)));
  }

  private static final class Nf4Totals {
    long params;
    long packed;
    long codes;
    long nested;
    long maps;

    void add(long params, long packed, long codes, long nested, long maps) {
      this.params += params;
      this.packed += packed;
      this.codes += codes;
      this.nested += nested;
      this.maps += maps;
    }
  }

  /** Total bytes held. */
  public long totalBytes() {
    return kinds.stream().mapToLong(Kind::bytes).sum();
  }

  /** Total parameters. */
  public long totalParameters() {
    return kinds.stream().mapToLong(Kind::parameters).sum();
  }

  /** Bytes of the NF4 projections, constants included. */
  public long nf4Bytes() {
    return kinds.stream().filter(k -> k.name().startsWith("nf4")).mapToLong(Kind::bytes).sum();
  }

  /** Parameters of the NF4 projections. */
  public long nf4Parameters() {
    return kinds.stream().filter(k -> k.name().startsWith("nf4")).mapToLong(Kind::parameters).sum();
  }

  /** Bits per NF4 parameter, constants included (about 4.127). */
  public double nf4BitsPerParameter() {
    return nf4Bytes() * 8.0 / nf4Parameters();
  }

  /** A plain-text table. */
  public String format() {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%-36s %16s %16s%n", "kind", "parameters", "bytes"));
    for (Kind k : kinds) {
      sb.append(
          String.format(Locale.ROOT, "%-36s %16d %16d%n", k.name(), k.parameters(), k.bytes()));
    }
    sb.append(
        String.format(Locale.ROOT, "%-36s %16d %16d%n", "total", totalParameters(), totalBytes()));
    sb.append(
        String.format(
            Locale.ROOT,
            "nf4 bits/parameter (constants included): %.4f; overall bits/parameter: %.4f%n",
            nf4BitsPerParameter(),
            totalBytes() * 8.0 / totalParameters()));
    return sb.toString();
  }
}
