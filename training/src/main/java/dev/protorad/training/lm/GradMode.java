package dev.protorad.training.lm;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * PyTorch's grad mode is per thread and starts on: a thread that never ran DJL's engine start-up
 * records autograd graphs for every op, and in-place updates of trainable leaves then fail. Each
 * training or evaluation thread turns it off once before its first op; gradient collectors turn it
 * on only inside their scope.
 */
public final class GradMode {

  private GradMode() {}

  /** Turns autograd recording off on the calling thread. */
  public static void off() {
    Engine.getEngine("PyTorch"); // loads the native library on first use
    JniUtils.setGradMode(false);
  }
}
