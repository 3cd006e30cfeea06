package dev.protorad.policy;

import java.util.List;
import java.util.stream.Collectors;

/** A policy file that cannot be used; {@link #errors()} lists every problem found, in order. */
public final class PolicyException extends Exception {
  private static final long serialVersionUID = 1L;

  private final List<PolicyError> errors;

  PolicyException(List<PolicyError> errors) {
    super(describe(errors));
    if (errors.isEmpty()) {
      throw new IllegalArgumentException("errors: [] (expected: at least one)");
    }
    this.errors = List.copyOf(errors);
  }

  /** Every problem, each formatted by {@link PolicyError#toString()} as {@code file:line: msg}. */
  public List<PolicyError> errors() {
    return errors;
  }

  private static String describe(List<PolicyError> errors) {
    return errors.size()
        + " policy error(s):\n"
        + errors.stream().map(PolicyError::toString).collect(Collectors.joining("\n"));
  }
}
