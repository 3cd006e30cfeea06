package dev.protorad.engine.checkpoint;

import static java.util.Objects.requireNonNull;

import dev.protorad.engine.ModelConfig;
import java.util.Optional;

/** The seven linear projections of a Llama decoder layer, each NF4 in the base. */
public enum Projection {
  Q_PROJ("q_proj", "self_attn"),
  K_PROJ("k_proj", "self_attn"),
  V_PROJ("v_proj", "self_attn"),
  O_PROJ("o_proj", "self_attn"),
  GATE_PROJ("gate_proj", "mlp"),
  UP_PROJ("up_proj", "mlp"),
  DOWN_PROJ("down_proj", "mlp");

  private final String moduleName;
  private final String parent;

  Projection(String moduleName, String parent) {
    this.moduleName = moduleName;
    this.parent = parent;
  }

  /** Hugging Face module name, e.g. {@code q_proj}. */
  public String moduleName() {
    return moduleName;
  }

  /** Parent module, {@code self_attn} or {@code mlp}. */
  public String parent() {
    return parent;
  }

  /** Module path inside the model, e.g. {@code model.layers.3.self_attn.q_proj}. */
  public String modulePath(int layer) {
    return "model.layers." + layer + "." + parent + "." + moduleName;
  }

  /** Name of the weight tensor, e.g. {@code model.layers.3.self_attn.q_proj.weight}. */
  public String weightName(int layer) {
    return modulePath(layer) + ".weight";
  }

  /** Input features (columns of the weight). */
  public int inFeatures(ModelConfig c) {
    return switch (this) {
      case Q_PROJ, K_PROJ, V_PROJ, GATE_PROJ, UP_PROJ -> c.hiddenSize();
      case O_PROJ -> c.numAttentionHeads() * c.headDim();
      case DOWN_PROJ -> c.intermediateSize();
    };
  }

  /** Output features (rows of the weight). */
  public int outFeatures(ModelConfig c) {
    return switch (this) {
      case Q_PROJ -> c.numAttentionHeads() * c.headDim();
      case K_PROJ, V_PROJ -> c.kvDim();
      case O_PROJ, DOWN_PROJ -> c.hiddenSize();
      case GATE_PROJ, UP_PROJ -> c.intermediateSize();
    };
  }

  /** The projection called {@code moduleName} ({@code q_proj} …), if any. */
  public static Optional<Projection> fromModuleName(String moduleName) {
    requireNonNull(moduleName, "moduleName");
    for (Projection p : values()) {
      if (p.moduleName.equals(moduleName)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
