package dev.protorad.clinical.catalog;

/** A catalog that cannot be read or breaks a catalog invariant; the message names the entry. */
public final class CatalogException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message naming the offending entry. */
  public CatalogException(String message) {
    super(message);
  }

  /** Creates an exception with a message naming the offending entry and its cause. */
  public CatalogException(String message, Throwable cause) {
    super(message, cause);
  }
}
