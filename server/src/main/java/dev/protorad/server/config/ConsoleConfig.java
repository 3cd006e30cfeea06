package dev.protorad.server.config;

import static java.util.Objects.requireNonNull;

/**
 * The web console ({@code console.*}): off unless enabled; served on its own HTTP port beside the
 * gRPC one. People sign in through an authenticating proxy that puts their token in {@code
 * userHeader}; the console forwards it under the gateway key read from {@code gatewayKeyEnv}. In
 * demo mode a role picker signs in as the demo principals instead.
 *
 * @param enabled whether the console is served
 * @param host address it listens on
 * @param port its HTTP port, 0 for any free one
 * @param gatewayKeyEnv environment variable holding the API key of a principal with {@code
 *     identity:assert}; empty for none (then only demo mode can sign in)
 * @param userHeader the header the authenticating proxy puts each person's token in
 */
public record ConsoleConfig(
    boolean enabled, String host, int port, String gatewayKeyEnv, String userHeader) {

  public static final int DEFAULT_PORT = 8088;
  public static final String DEFAULT_USER_HEADER = "X-Forwarded-Access-Token";

  public ConsoleConfig {
    requireNonNull(host, "host");
    requireNonNull(gatewayKeyEnv, "gatewayKeyEnv");
    requireNonNull(userHeader, "userHeader");
    if (port < 0 || port > 65535) {
      throw new ConfigException("console.port", port + " (expected: 0..65535, 0 = any free port)");
    }
    if (userHeader.isBlank()) {
      throw new ConfigException("console.user_header", "blank (expected: a header name)");
    }
  }

  /** Off, on 127.0.0.1:8088 when turned on. */
  public static ConsoleConfig disabled() {
    return new ConsoleConfig(false, "127.0.0.1", DEFAULT_PORT, "", DEFAULT_USER_HEADER);
  }

  /** This configuration, turned on at {@code newPort}. */
  public ConsoleConfig enabledOn(int newPort) {
    return new ConsoleConfig(true, host, newPort, gatewayKeyEnv, userHeader);
  }
}
