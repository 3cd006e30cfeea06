package dev.protorad.client;

import io.grpc.Metadata;

/** The request headers ProtoRad reads. */
public final class ProtoradHeaders {

  /** {@code authorization: Bearer API_KEY}. */
  public static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  /**
   * {@code x-protorad-end-user}: the end user's JWT, sent only by a gateway principal that holds
   * {@code identity:assert}; from anyone else the server rejects the call.
   */
  public static final Metadata.Key<String> END_USER_TOKEN =
      Metadata.Key.of("x-protorad-end-user", Metadata.ASCII_STRING_MARSHALLER);

  private ProtoradHeaders() {}
}
