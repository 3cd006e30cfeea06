package dev.protorad.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.api.v1.AdapterServiceGrpc;
import dev.protorad.api.v1.AuditServiceGrpc;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import dev.protorad.api.v1.TrainingServiceGrpc;
import dev.protorad.audit.AuditEvent;
import dev.protorad.audit.AuditPage;
import dev.protorad.audit.AuditQuery;
import dev.protorad.audit.CheckpointKeys;
import dev.protorad.audit.FileAuditStore;
import dev.protorad.audit.Outcome;
import dev.protorad.policy.PolicyEngine;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every RPC × every default role × every credential case gives the exact status code, and every
 * call, allowed or not, leaves exactly one audit event with that code. Runs the real interceptors
 * over a real Shiro policy and a real file audit store.
 */
class GovernanceMatrixTest {

  /** DESIGN §4 default roles, written out here as the oracle (not read from the policy). */
  private static final Map<String, Set<String>> GRANTS =
      Map.of(
          "order-intake", Set.of("note:submit"),
          "clinician", Set.of("note:submit", "label:read", "prediction:read"),
          "radiologist",
              Set.of(
                  "note:submit", "note:read", "label:read", "prediction:read", "prediction:review"),
          "technologist", Set.of("label:read", "prediction:read"),
          "ml-engineer", Set.of("training:run", "adapter:read", "adapter:manage"),
          "ml-lead", Set.of("training:run", "adapter:read", "adapter:manage", "adapter:promote"),
          "compliance-officer", Set.of("audit:read", "audit:verify"),
          "gateway", Set.of("identity:assert"));

  /** RPCs already built answer OK to an authorized empty request; the rest UNIMPLEMENTED. */
  private static final Set<String> BUILT =
      Set.of(
          AuditServiceGrpc.getQueryAuditEventsMethod().getFullMethodName(),
          AuditServiceGrpc.getVerifyAuditLogMethod().getFullMethodName());

  enum Credential {
    NONE,
    UNKNOWN_KEY,
    EXPIRED_JWT,
    JWT_FROM_OTHER_KEY,
    END_USER_HEADER_FROM_NON_GATEWAY,
    VALID_KEY,
    VALID_VIA_GATEWAY
  }

  @TempDir static Path dir;
  private static final GovernanceFixture fixture = new GovernanceFixture();
  private static FileAuditStore audit;
  private static ProtoradServer server;
  private static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    audit =
        FileAuditStore.builder(dir.resolve("audit"))
            .writerId("matrix")
            .checkpointKeys(CheckpointKeys.generateInMemory())
            .open();
    String name = InProcessServerBuilder.generateName();
    server =
        ProtoradServer.builder(InProcessServerBuilder.forName(name))
            .governance(PolicyEngine.create(fixture.policy(), Clock.systemUTC()), audit)
            .build()
            .start();
    server.markServing();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterAll
  static void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdown(Duration.ZERO);
    audit.close();
  }

  static Stream<String> roles() {
    return GovernanceFixture.ROLES.stream();
  }

  static List<MethodDescriptor<?, ?>> methods() {
    List<MethodDescriptor<?, ?>> all = new ArrayList<>();
    for (ServiceDescriptor s :
        List.of(
            ProtocolServiceGrpc.getServiceDescriptor(),
            AdapterServiceGrpc.getServiceDescriptor(),
            TrainingServiceGrpc.getServiceDescriptor(),
            AuditServiceGrpc.getServiceDescriptor())) {
      all.addAll(s.getMethods());
    }
    return all;
  }

  @Test
  void everyRpc_hasAPermissionInTheTable() {
    assertThat(methods())
        .extracting(MethodDescriptor::getFullMethodName)
        .containsExactlyInAnyOrderElementsOf(RpcPermissions.all().keySet());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("roles")
  void everyRpcAndCredential_givesExactStatus_andItsAuditRecord(String role) throws Exception {
    long before = countEvents();
    List<Status.Code> codes = new ArrayList<>();
    long anonymousCalls = 0;
    SoftAssertions softly = new SoftAssertions();
    for (MethodDescriptor<?, ?> method : methods()) {
      for (Credential credential : Credential.values()) {
        Status.Code actual = invoke(method, headers(role, credential));
        softly
            .assertThat(actual)
            .as("%s %s %s", role, credential, method.getBareMethodName())
            .isEqualTo(expected(method, role, credential));
        if (credential == Credential.NONE || credential == Credential.UNKNOWN_KEY) {
          anonymousCalls++;
        } else {
          codes.add(actual);
        }
      }
    }
    softly.assertAll();
    server.flushAnonymousDenials();

    // Calls with a named caller: one event each, in order. Anonymous denials: aggregated per
    // source and interval, every one of them counted.
    List<AuditEvent> events = eventsAfter(before);
    List<AuditEvent> named =
        events.stream().filter(e -> !e.details().principal().equals(CallAudit.ANONYMOUS)).toList();
    List<AuditEvent> anonymous =
        events.stream().filter(e -> e.details().principal().equals(CallAudit.ANONYMOUS)).toList();
    assertThat(named).hasSize(codes.size());
    for (int i = 0; i < codes.size(); i++) {
      AuditEvent e = named.get(i);
      assertThat(e.details().statusCode()).isEqualTo(codes.get(i).name());
      assertThat(e.details().outcome()).isEqualTo(outcomeFor(codes.get(i)));
    }
    assertThat(anonymous).allMatch(e -> e.details().statusCode().equals("UNAUTHENTICATED"));
    assertThat(anonymous.stream().mapToLong(e -> e.details().occurrences()).sum())
        .isEqualTo(anonymousCalls);
    assertThat(anonymous).hasSizeLessThanOrEqualTo(3);
    assertThat(audit.verify().valid()).isTrue();
  }

  private Metadata headers(String role, Credential credential) {
    Metadata h = new Metadata();
    String gatewayKey = fixture.keyByRole.get("gateway");
    switch (credential) {
      case NONE -> {}
      case UNKNOWN_KEY -> bearer(h, "prk_not-a-key-anyone-holds");
      case EXPIRED_JWT -> {
        bearer(h, gatewayKey);
        h.put(AuthInterceptor.END_USER_TOKEN, fixture.expiredToken("dr-a", List.of(role)));
      }
      case JWT_FROM_OTHER_KEY -> {
        bearer(h, gatewayKey);
        h.put(AuthInterceptor.END_USER_TOKEN, fixture.foreignToken("dr-a", List.of(role)));
      }
      case END_USER_HEADER_FROM_NON_GATEWAY -> {
        bearer(h, fixture.keyByRole.get(role));
        h.put(AuthInterceptor.END_USER_TOKEN, fixture.validToken("dr-a", List.of("clinician")));
      }
      case VALID_KEY -> bearer(h, fixture.keyByRole.get(role));
      case VALID_VIA_GATEWAY -> {
        bearer(h, gatewayKey);
        h.put(AuthInterceptor.END_USER_TOKEN, fixture.validToken("dr-a", List.of(role)));
      }
    }
    return h;
  }

  private static void bearer(Metadata h, String key) {
    h.put(AuthInterceptor.AUTHORIZATION, "Bearer " + key);
  }

  private static Status.Code expected(MethodDescriptor<?, ?> method, String role, Credential c) {
    return switch (c) {
      case NONE, UNKNOWN_KEY, EXPIRED_JWT, JWT_FROM_OTHER_KEY -> Status.Code.UNAUTHENTICATED;
      case END_USER_HEADER_FROM_NON_GATEWAY ->
          role.equals("gateway")
              ? outcome(method, Set.of("clinician"))
              : Status.Code.PERMISSION_DENIED;
      case VALID_KEY -> outcome(method, Set.of(role));
      case VALID_VIA_GATEWAY ->
          outcome(method, GovernanceFixture.ASSERTABLE.contains(role) ? Set.of(role) : Set.of());
    };
  }

  private static Status.Code outcome(MethodDescriptor<?, ?> method, Set<String> roles) {
    String needed = RpcPermissions.permissionFor(method).orElseThrow();
    Set<String> granted = new HashSet<>();
    roles.forEach(r -> granted.addAll(GRANTS.get(r)));
    if (!granted.contains(needed)) {
      return Status.Code.PERMISSION_DENIED;
    }
    return BUILT.contains(method.getFullMethodName()) ? Status.Code.OK : Status.Code.UNIMPLEMENTED;
  }

  private static Outcome outcomeFor(Status.Code code) {
    return switch (code) {
      case OK -> Outcome.ALLOWED;
      case UNAUTHENTICATED, PERMISSION_DENIED -> Outcome.DENIED;
      default -> Outcome.FAILED;
    };
  }

  /** Calls any RPC with its empty request message, whatever its streaming kind. */
  @SuppressWarnings("unchecked")
  private static Status.Code invoke(MethodDescriptor<?, ?> descriptor, Metadata headers)
      throws Exception {
    MethodDescriptor<Object, Object> method = (MethodDescriptor<Object, Object>) descriptor;
    Object request =
        ((MethodDescriptor.PrototypeMarshaller<Object>) method.getRequestMarshaller())
            .getMessagePrototype();
    ClientCall<Object, Object> call =
        channel.newCall(method, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS));
    CompletableFuture<Status> closed = new CompletableFuture<>();
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onClose(Status status, Metadata trailers) {
            closed.complete(status);
          }
        },
        headers);
    call.request(Integer.MAX_VALUE);
    call.sendMessage(request);
    call.halfClose();
    return closed.get(10, TimeUnit.SECONDS).getCode();
  }

  private static long countEvents() {
    return allEvents().size();
  }

  private static List<AuditEvent> eventsAfter(long count) {
    List<AuditEvent> all = allEvents();
    return all.subList((int) count, all.size());
  }

  private static List<AuditEvent> allEvents() {
    List<AuditEvent> events = new ArrayList<>();
    String token = "";
    do {
      AuditPage page =
          audit.query(
              AuditQuery.builder().pageSize(AuditQuery.MAX_PAGE_SIZE).pageToken(token).build());
      events.addAll(page.events());
      token = page.nextPageToken();
    } while (!token.isEmpty());
    return events;
  }
}
