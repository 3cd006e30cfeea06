package dev.protorad.server.config;

/**
 * A configuration value that cannot be used. The message is one line naming the key, the value
 * given and the value expected; the CLI prints it and exits with status 2.
 */
public final class ConfigException extends RuntimeException {

  private final String key;

  public ConfigException(String key, String message) {
    super(key + ": " + message);
    this.key = key;
  }

  /** The configuration key at fault, for example {@code port}. */
  public String key() {
    return key;
  }
}
