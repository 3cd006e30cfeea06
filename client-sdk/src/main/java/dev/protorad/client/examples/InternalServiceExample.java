package dev.protorad.client.examples;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolResponse;
import dev.protorad.client.ProtoradClient;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * An internal service (an order-intake system, say) with its own API key: checks health, then
 * submits one note and prints the prediction. Labels come back only when the key's principal may
 * read them ({@code label:read}).
 *
 * <pre>
 * PROTORAD_API_KEY=prk_… java -cp … dev.protorad.client.examples.InternalServiceExample 127.0.0.1:50051
 * </pre>
 */
public final class InternalServiceExample {

  static final String NAME = "internal-service";
  static final String USAGE =
      NAME
          + " HOST:PORT [--api-key KEY] [--order-id ID] [--patient-ref REF] [--note TEXT] [--tls]\n"
          + "  Submits one note with a service's API key and prints the prediction.\n"
          + "  --api-key defaults to $PROTORAD_API_KEY; HOST:PORT to $PROTORAD_TARGET;\n"
          + "  --note to a sample note. Exit 1 when a call fails, 2 on bad arguments.";
  private static final List<String> OPTIONS =
      List.of("--api-key", "--order-id", "--patient-ref", "--note");

  private InternalServiceExample() {}

  public static void main(String[] args) {
    System.exit(
        run(
            args,
            System.getenv(),
            new PrintWriter(System.out, false, StandardCharsets.UTF_8),
            new PrintWriter(System.err, false, StandardCharsets.UTF_8)));
  }

  /** Runs the example and returns its exit status. */
  public static int run(String[] args, Map<String, String> env, PrintWriter out, PrintWriter err) {
    return ExampleRunner.run(
        NAME,
        USAGE,
        OPTIONS,
        args,
        env,
        out,
        err,
        (a, channel) -> {
          ProtoradClient client =
              ProtoradClient.builder(channel)
                  .apiKey(a.required("--api-key", "PROTORAD_API_KEY"))
                  .build();
          ServingStatus health = client.health();
          out.println(NAME + ": connected to " + a.target() + ", health " + health);
          AssignProtocolRequest request = Predictions.request(a);
          AssignProtocolResponse r = client.assignProtocol(request);
          out.println(NAME + ": AssignProtocol answered");
          out.println(Predictions.describe(request, r));
          return 0;
        });
  }
}
