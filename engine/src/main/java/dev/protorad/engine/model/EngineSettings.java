package dev.protorad.engine.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;

/**
 * PyTorch engine settings for serving, applied before DJL loads its native library.
 *
 * <p>One intra-op thread and one inter-op thread per call, with several Java worker threads running
 * requests side by side, gave the best throughput for small batches on CPU (DESIGN §2). DJL reads
 * {@code ai.djl.pytorch.num_threads} and {@code ai.djl.pytorch.num_interop_threads} once, when the
 * PyTorch engine starts ({@code PtEngine.newInstance}), so {@link #applyDefaults()} must run before
 * the first {@code NDManager} is created; a value already set on the command line ({@code
 * -Dai.djl.pytorch.num_threads=4}) wins. The launcher should also export {@code OMP_NUM_THREADS=1}
 * so that OpenMP pools created by native code agree.
 *
 * <p>GPU: DJL 0.36 with PyTorch 2.7.1 needs libtorch built for CUDA 12.8, supplied through {@code
 * PYTORCH_LIBRARY_PATH} (the newest CUDA native jar on Maven Central, {@code
 * pytorch-native-cu124:2.5.1}, belongs to DJL 0.33). {@link #device()} picks the GPU when the
 * engine sees one.
 */
public final class EngineSettings {

  /** System property: intra-op threads per PyTorch call. */
  public static final String NUM_THREADS = "ai.djl.pytorch.num_threads";

  /** System property: inter-op threads of PyTorch. */
  public static final String NUM_INTEROP_THREADS = "ai.djl.pytorch.num_interop_threads";

  /** System property: the TorchScript graph optimizer (unused here; off avoids its warm-up). */
  public static final String GRAPH_OPTIMIZER = "ai.djl.pytorch.graph_optimizer";

  /** Intra-op threads used unless the property is already set. */
  public static final int DEFAULT_INTRA_OP_THREADS = 1;

  private EngineSettings() {}

  /** Sets the thread properties unless already set. Idempotent; call before any DJL use. */
  public static void applyDefaults() {
    setIfAbsent(NUM_THREADS, Integer.toString(DEFAULT_INTRA_OP_THREADS));
    setIfAbsent(NUM_INTEROP_THREADS, "1");
    setIfAbsent(GRAPH_OPTIMIZER, "false");
  }

  /**
   * The device models run on: the first GPU when the loaded libtorch is a CUDA build and a GPU is
   * visible, else the CPU. Both checks matter: the CPU libtorch on a GPU host still counts GPUs.
   */
  static Device device() {
    applyDefaults();
    Engine engine = Engine.getInstance();
    boolean cuda = engine.hasCapability(StandardCapabilities.CUDA);
    return cuda && engine.getGpuCount() > 0 ? Device.gpu() : Device.cpu();
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
