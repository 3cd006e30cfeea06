package dev.protorad.client.examples;

import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolResponse;
import dev.protorad.client.ProtoradClient;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A gateway (the clinicians' portal, say) submitting a note on behalf of a signed-in user: its own
 * API key authenticates the gateway, which must hold {@code identity:assert}; the user's JWT from
 * the identity provider travels in {@code x-protorad-end-user}. The server checks the token and
 * records the prediction in the audit trail as made by the gateway for that user.
 *
 * <pre>
 * PROTORAD_API_KEY=prk_… PROTORAD_END_USER_TOKEN=eyJ… \
 *     java -cp … dev.protorad.client.examples.GatewayExample 127.0.0.1:50051
 * </pre>
 */
public final class GatewayExample {

  static final String NAME = "gateway";
  static final String USAGE =
      NAME
          + " HOST:PORT [--api-key GATEWAY_KEY] [--end-user-token JWT] [--order-id ID]"
          + " [--patient-ref REF] [--note TEXT] [--tls]\n"
          + "  Submits one note as a gateway on behalf of the user the JWT names.\n"
          + "  --api-key defaults to $PROTORAD_API_KEY, --end-user-token to"
          + " $PROTORAD_END_USER_TOKEN,\n"
          + "  HOST:PORT to $PROTORAD_TARGET. Exit 1 when a call fails, 2 on bad arguments.";
  private static final List<String> OPTIONS =
      List.of("--api-key", "--end-user-token", "--order-id", "--patient-ref", "--note");
  private static final Pattern SUBJECT = Pattern.compile("\"sub\"\\s*:\\s*\"([^\"]*)\"");

  private GatewayExample() {}

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
          String token = a.required("--end-user-token", "PROTORAD_END_USER_TOKEN");
          ProtoradClient client =
              ProtoradClient.builder(channel)
                  .apiKey(a.required("--api-key", "PROTORAD_API_KEY"))
                  .endUserToken(token)
                  .build();
          out.println(
              NAME
                  + ": submitting to "
                  + a.target()
                  + " on behalf of "
                  + subject(token)
                  + " (as the token says; the server verifies it)");
          AssignProtocolRequest request = Predictions.request(a);
          AssignProtocolResponse r = client.assignProtocol(request);
          out.println(NAME + ": AssignProtocol answered");
          out.println(Predictions.describe(request, r));
          return 0;
        });
  }

  /** The token's {@code sub} claim, read without checking the signature (display only). */
  static String subject(String jwt) {
    String[] parts = jwt.split("\\.", -1);
    if (parts.length != 3) {
      throw new IllegalArgumentException(
          "--end-user-token: not a compact JWS (expected: header.payload.signature)");
    }
    try {
      String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
      Matcher m = SUBJECT.matcher(payload);
      return m.find() ? m.group(1) : "(no sub claim)";
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--end-user-token: payload is not base64url");
    }
  }
}
