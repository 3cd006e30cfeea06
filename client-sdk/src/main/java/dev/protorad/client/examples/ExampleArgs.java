package dev.protorad.client.examples;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The command line every example shares: {@code HOST:PORT}, {@code --name value} options, {@code
 * --tls} and {@code --help}; values may come from environment variables instead.
 */
final class ExampleArgs {

  /** A usage error; the message is one line naming the argument and what was expected. */
  static final class UsageException extends Exception {
    UsageException(String message) {
      super(message);
    }
  }

  private final String host;
  private final int port;
  private final Map<String, String> options;
  private final Map<String, String> environment;
  private final boolean tls;

  private ExampleArgs(
      String host, int port, Map<String, String> options, Map<String, String> env, boolean tls) {
    this.host = host;
    this.port = port;
    this.options = options;
    this.environment = env;
    this.tls = tls;
  }

  /** Whether {@code args} ask for help. */
  static boolean wantsHelp(String[] args) {
    return List.of(args).contains("--help") || List.of(args).contains("-h");
  }

  /** Parses {@code args}; {@code valueOptions} are the options that take a value. */
  static ExampleArgs parse(String[] args, List<String> valueOptions, Map<String, String> env)
      throws UsageException {
    String target = null;
    boolean tls = false;
    Map<String, String> options = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("--tls")) {
        tls = true;
      } else if (valueOptions.contains(arg)) {
        if (i + 1 >= args.length) {
          throw new UsageException(arg + ": missing value");
        }
        options.put(arg, args[++i]);
      } else if (arg.startsWith("-")) {
        throw new UsageException(arg + ": unknown option (expected one of " + valueOptions + ")");
      } else if (target == null) {
        target = arg;
      } else {
        throw new UsageException("'" + arg + "': unexpected argument (expected: HOST:PORT once)");
      }
    }
    if (target == null) {
      target = env.get("PROTORAD_TARGET");
    }
    if (target == null) {
      throw new UsageException("HOST:PORT: missing (or set PROTORAD_TARGET)");
    }
    int colon = target.lastIndexOf(':');
    int port = colon > 0 ? parsePort(target.substring(colon + 1)) : -1;
    if (port < 1) {
      throw new UsageException("HOST:PORT: '" + target + "' (expected: e.g. 127.0.0.1:50051)");
    }
    return new ExampleArgs(target.substring(0, colon), port, options, env, tls);
  }

  private static int parsePort(String text) {
    try {
      int port = Integer.parseInt(text);
      return port <= 65535 ? port : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** The value of {@code option}, else of the environment variable {@code env}. */
  Optional<String> value(String option, String env) {
    String value = options.get(option);
    return Optional.ofNullable(value != null ? value : environment.get(env))
        .filter(v -> !v.isBlank());
  }

  /** Like {@link #value} but required. */
  String required(String option, String env) throws UsageException {
    return value(option, env)
        .orElseThrow(() -> new UsageException(option + ": missing (or set " + env + ")"));
  }

  String target() {
    return host + ":" + port;
  }

  /** A channel to the target: plaintext, or TLS with the JVM's trusted CAs under {@code --tls}. */
  ManagedChannel channel() {
    ManagedChannelBuilder<?> builder = ManagedChannelBuilder.forAddress(host, port);
    return (tls ? builder.useTransportSecurity() : builder.usePlaintext()).build();
  }
}
