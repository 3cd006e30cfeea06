package dev.protorad.console;

import static java.util.Objects.requireNonNull;

import java.util.Map;
import java.util.Optional;

/**
 * How the console listens and how it signs people in.
 *
 * @param host address to listen on
 * @param port port, 0 for any free one
 * @param demoKeys demo mode only: the API key of each demo role, offered by a role picker; empty
 *     outside demo mode
 * @param gateway the gateway credentials the console asserts end users with, when people sign in
 *     through an authenticating proxy
 * @param secureCookies whether cookies carry {@code Secure} (the console is reached over TLS)
 */
public record ConsoleSettings(
    String host,
    int port,
    Map<String, String> demoKeys,
    Optional<Gateway> gateway,
    boolean secureCookies) {

  public ConsoleSettings {
    requireNonNull(host, "host");
    demoKeys = Map.copyOf(requireNonNull(demoKeys, "demoKeys"));
    requireNonNull(gateway, "gateway");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 0..65535)");
    }
    if (demoKeys.isEmpty() && gateway.isEmpty()) {
      throw new IllegalArgumentException(
          "no way to sign in (expected: demo roles, or a gateway key and a proxy header)");
    }
  }

  /**
   * Sign-in through an authenticating proxy: it puts the person's token (a JWT the server's policy
   * trusts) in {@code userHeader}; the console forwards it as the end-user token under the gateway
   * principal's {@code apiKey}.
   */
  public record Gateway(String apiKey, String userHeader) {
    public Gateway {
      requireNonNull(apiKey, "apiKey");
      requireNonNull(userHeader, "userHeader");
      if (apiKey.isBlank() || userHeader.isBlank()) {
        throw new IllegalArgumentException("gateway: blank key or header");
      }
    }
  }
}
