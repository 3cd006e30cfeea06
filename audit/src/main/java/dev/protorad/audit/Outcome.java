package dev.protorad.audit;

/** How an audited call ended. */
public enum Outcome {
  /** The caller was authorized and the call succeeded. */
  ALLOWED,
  /** Authentication or authorization refused the call. */
  DENIED,
  /** The caller was authorized but the call failed (bad input, not found, internal error). */
  FAILED
}
