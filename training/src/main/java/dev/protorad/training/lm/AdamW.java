package dev.protorad.training.lm;

import static java.util.Objects.requireNonNull;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import java.util.ArrayList;
import java.util.List;

/**
 * AdamW (Loshchilov and Hutter, decoupled weight decay) with global-norm gradient clipping, written
 * over raw gradients because DJL's optimizers couple decay into the gradient and clip each value
 * from above only.
 *
 * <p>The moment estimates live in a manager created with the optimizer, never inside a per-step
 * scope that would close them.
 */
public final class AdamW implements AutoCloseable {

  /** Default first-moment decay. */
  public static final double BETA1 = 0.9;

  /** Default second-moment decay. */
  public static final double BETA2 = 0.999;

  /** Default denominator epsilon. */
  public static final double EPSILON = 1e-8;

  private final List<TrainableLlama.Param> params;
  private final List<NDArray> firstMoments = new ArrayList<>();
  private final List<NDArray> secondMoments = new ArrayList<>();
  private final NDManager state;
  private final double weightDecay;
  private int steps;
  private int skipped;

  private AdamW(List<TrainableLlama.Param> params, double weightDecay, NDManager parent) {
    this.params = List.copyOf(params);
    this.weightDecay = weightDecay;
    this.state = parent.newSubManager();
    for (TrainableLlama.Param p : this.params) {
      firstMoments.add(state.zeros(p.value().getShape()));
      secondMoments.add(state.zeros(p.value().getShape()));
    }
  }

  /**
   * An optimizer over {@code params} whose state lives under {@code parent}.
   *
   * @param weightDecay decoupled decay per unit of learning rate, applied to decaying params only
   */
  public static AdamW of(List<TrainableLlama.Param> params, double weightDecay, NDManager parent) {
    requireNonNull(params, "params");
    requireNonNull(parent, "parent");
    if (!(weightDecay >= 0)) {
      throw new IllegalArgumentException("weightDecay: " + weightDecay + " (expected: >= 0)");
    }
    return new AdamW(params, weightDecay, parent);
  }

  /** The L2 norm over every accumulated gradient (zero for a parameter without one). */
  public double gradientNorm() {
    double sum = 0;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      for (TrainableLlama.Param p : params) {
        if (p.value().hasGradient()) {
          sum += p.value().getGradient().square().sum().getFloat();
        }
      }
    }
    return Math.sqrt(sum);
  }

  /**
   * Applies one update with the accumulated gradients, scaled so their global norm is at most
   * {@code maxNorm} (no clipping when {@code maxNorm <= 0}), then zeroes them.
   *
   * <p>A step whose gradients are not finite is skipped (gradients zeroed, parameters and moments
   * untouched), as mixed-precision loss scalers do: one overflowing batch must not turn every
   * parameter into NaN.
   *
   * @return the global gradient norm before clipping (NaN or infinite for a skipped step)
   */
  public double step(double learningRate, double maxNorm) {
    double norm = gradientNorm();
    if (!Double.isFinite(norm)) {
      zeroGradients();
      skipped++;
      return norm;
    }
    double clip = maxNorm > 0 && norm > maxNorm ? maxNorm / (norm + 1e-6) : 1.0;
    steps++;
    double bias1 = 1 - Math.pow(BETA1, steps);
    double bias2 = 1 - Math.pow(BETA2, steps);
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      for (int i = 0; i < params.size(); i++) {
        TrainableLlama.Param p = params.get(i);
        if (!p.value().hasGradient()) {
          continue;
        }
        NDArray g = p.value().getGradient();
        NDArray clipped = clip == 1.0 ? g : g.mul((float) clip);
        NDArray m = firstMoments.get(i);
        NDArray v = secondMoments.get(i);
        m.muli((float) BETA1).addi(clipped.mul((float) (1 - BETA1)));
        v.muli((float) BETA2).addi(clipped.square().muli((float) (1 - BETA2)));
        NDArray denom = v.div((float) bias2).sqrt().addi((float) EPSILON);
        NDArray update = m.div((float) bias1).divi(denom).muli((float) learningRate);
        if (p.decay() && weightDecay > 0) {
          p.value().muli((float) (1 - learningRate * weightDecay));
        }
        p.value().subi(update);
        clear(g);
      }
    }
    return norm;
  }

  /** Zeroes the accumulated gradients without updating. */
  public void zeroGradients() {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      for (TrainableLlama.Param p : params) {
        if (p.value().hasGradient()) {
          clear(p.value().getGradient());
        }
      }
    }
  }

  /**
   * Sets a gradient to zero in place. {@code g - g} and {@code g * 0} would keep a NaN or infinite
   * value, and with it every later step would be skipped.
   */
  private static void clear(NDArray g) {
    g.set(new NDIndex(":"), 0f);
  }

  /** Steps skipped because their gradients were not finite. */
  public int skipped() {
    return skipped;
  }

  /** Updates applied so far. */
  public int steps() {
    return steps;
  }

  @Override
  public void close() {
    state.close();
  }
}
