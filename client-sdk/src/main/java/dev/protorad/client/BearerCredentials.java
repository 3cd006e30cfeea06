package dev.protorad.client;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/** Attaches {@code authorization: Bearer KEY} and, for gateways, the end user's token. */
final class BearerCredentials extends CallCredentials {

  private final String apiKey;
  private final @Nullable String endUserToken;

  BearerCredentials(String apiKey, @Nullable String endUserToken) {
    this.apiKey = apiKey;
    this.endUserToken = endUserToken;
  }

  @Override
  public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
    try {
      Metadata headers = new Metadata();
      headers.put(ProtoradHeaders.AUTHORIZATION, "Bearer " + apiKey);
      if (endUserToken != null) {
        headers.put(ProtoradHeaders.END_USER_TOKEN, endUserToken);
      }
      applier.apply(headers);
    } catch (RuntimeException e) {
      applier.fail(Status.UNAUTHENTICATED.withDescription("cannot attach credentials"));
    }
  }
}
