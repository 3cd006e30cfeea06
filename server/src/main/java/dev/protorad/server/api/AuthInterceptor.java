package dev.protorad.server.api;

import static java.util.Objects.requireNonNull;

import dev.protorad.policy.Identity;
import dev.protorad.policy.IdentityAssertionException;
import dev.protorad.policy.PolicyEngine;
import dev.protorad.server.telemetry.RpcTelemetryInterceptor;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.opentelemetry.api.trace.Span;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticates the caller (bearer API key, else a TLS client certificate), applies a gateway's
 * end-user assertion, and checks the RPC's permission from {@link RpcPermissions}.
 *
 * <p>UNAUTHENTICATED when no credential is valid (missing, unknown, a bad end-user token);
 * PERMISSION_DENIED when an authenticated caller lacks the permission or sends an end-user token
 * without {@code identity:assert}. Descriptions are generic and never echo a credential.
 */
final class AuthInterceptor implements ServerInterceptor {

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> END_USER_TOKEN =
      Metadata.Key.of("x-protorad-end-user", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> BREAK_GLASS_REASON =
      Metadata.Key.of("x-protorad-break-glass-reason", Metadata.ASCII_STRING_MARSHALLER);

  private static final Logger log = LoggerFactory.getLogger(AuthInterceptor.class);
  private static final String BEARER = "Bearer ";

  private final PolicyEngine policy;
  private final RateLimiter limiter;

  AuthInterceptor(PolicyEngine policy) {
    this(policy, RateLimiter.perSecond(RateLimiter.DEFAULT_PER_SECOND, System::nanoTime));
  }

  AuthInterceptor(PolicyEngine policy, RateLimiter limiter) {
    this.policy = requireNonNull(policy, "policy");
    this.limiter = requireNonNull(limiter, "limiter");
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    CallAudit audit = CallAudit.current();
    Identity identity;
    try {
      identity = authorize(call, headers, audit, true);
    } catch (StatusRuntimeException e) {
      return deny(call, audit, e.getStatus());
    }
    if (!limiter.tryAcquire(identity.principalId())) {
      return deny(
          call,
          audit,
          Status.RESOURCE_EXHAUSTED.withDescription("rate limit: too many calls from this caller"));
    }
    Context context =
        Context.current()
            .withValue(CallIdentity.KEY, identity)
            .withValue(CallIdentity.BREAK_GLASS_REASON, headers.get(BREAK_GLASS_REASON))
            .withValue(CallIdentity.REAUTHORIZER, () -> authorize(call, headers, audit, false));
    return Contexts.interceptCall(context, call, headers, next);
  }

  /**
   * The caller of {@code call}, authenticated and permitted now.
   *
   * @param first whether this is the call's start (the audit record learns the identity and a
   *     failed end-user assertion is logged once)
   * @throws StatusRuntimeException UNAUTHENTICATED or PERMISSION_DENIED
   */
  private Identity authorize(
      ServerCall<?, ?> call, Metadata headers, CallAudit audit, boolean first) {
    Optional<Identity> caller = authenticate(call, headers);
    if (caller.isEmpty()) {
      throw Status.UNAUTHENTICATED.withDescription("authentication required").asRuntimeException();
    }
    if (first) {
      audit.identity(caller.get());
      Span.current().setAttribute(RpcTelemetryInterceptor.PRINCIPAL, caller.get().principalId());
    }
    Identity identity;
    try {
      identity = applyEndUser(caller.get(), headers.get(END_USER_TOKEN));
    } catch (IdentityAssertionException e) {
      if (first) {
        log.warn("end-user assertion from {} refused: {}", caller.get().principalId(), e.reason());
      }
      throw assertionStatus(e).asRuntimeException();
    }
    if (first) {
      audit.identity(identity);
    }
    String method = call.getMethodDescriptor().getFullMethodName();
    Optional<String> permission = RpcPermissions.permissionFor(call.getMethodDescriptor());
    if (permission.isEmpty() || !policy.isPermitted(identity, permission.get())) {
      throw Status.PERMISSION_DENIED
          .withDescription("not permitted: " + method)
          .asRuntimeException();
    }
    return identity;
  }

  private Optional<Identity> authenticate(ServerCall<?, ?> call, Metadata headers) {
    String authorization = headers.get(AUTHORIZATION);
    if (authorization != null) {
      return authorization.startsWith(BEARER)
          ? policy.authenticateApiKey(authorization.substring(BEARER.length()).trim())
          : Optional.empty();
    }
    return clientCertificate(call).flatMap(policy::authenticateCertificate);
  }

  private Identity applyEndUser(Identity caller, String token) {
    return token == null ? caller : policy.assertEndUser(caller, token);
  }

  private static Status assertionStatus(IdentityAssertionException e) {
    return e.isPermissionDenied()
        ? Status.PERMISSION_DENIED.withDescription("caller may not assert end users")
        : Status.UNAUTHENTICATED.withDescription("end-user token rejected");
  }

  private static Optional<X509Certificate> clientCertificate(ServerCall<?, ?> call) {
    SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session == null) {
      return Optional.empty();
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate x509
          ? Optional.of(x509)
          : Optional.empty();
    } catch (SSLPeerUnverifiedException e) {
      return Optional.empty();
    }
  }

  private static <Q, R> ServerCall.Listener<Q> deny(
      ServerCall<Q, R> call, CallAudit audit, Status status) {
    audit.denied();
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }
}
