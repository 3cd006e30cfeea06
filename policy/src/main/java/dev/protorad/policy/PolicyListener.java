package dev.protorad.policy;

import java.util.List;

/**
 * Hears about policy reloads. Called on the thread that reloaded; implementations must be quick and
 * must not throw (exceptions are logged and ignored).
 */
public interface PolicyListener {

  /** A new policy is now in force. */
  default void onApplied(Policy policy) {}

  /**
   * A changed policy file was refused; {@code current} stays in force.
   *
   * @param errors every problem, each printable as {@code file:line: message}
   */
  default void onRejected(Policy current, List<PolicyError> errors) {}
}
