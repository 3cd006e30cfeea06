package dev.protorad.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.rpc.BadRequest;
import dev.protorad.api.v1.AssignProtocolRequest;
import dev.protorad.api.v1.AssignProtocolResponse;
import dev.protorad.api.v1.AuditServiceGrpc;
import dev.protorad.api.v1.GetPredictionRequest;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import dev.protorad.api.v1.QueryAuditEventsRequest;
import dev.protorad.api.v1.ReviewDecision;
import dev.protorad.api.v1.ReviewPredictionRequest;
import dev.protorad.api.v1.ScoredLabel;
import dev.protorad.audit.AuditEvent;
import dev.protorad.audit.AuditQuery;
import dev.protorad.audit.CheckpointKeys;
import dev.protorad.audit.FileAuditStore;
import dev.protorad.audit.NoteHmac;
import dev.protorad.clinical.catalog.Catalog;
import dev.protorad.policy.BreakGlass;
import dev.protorad.policy.PolicyEngine;
import dev.protorad.server.serving.AdapterResolver;
import dev.protorad.server.serving.PredictionQueue;
import dev.protorad.server.serving.PredictionStore;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** ProtocolService end to end over the real model, policy, audit store and prediction database. */
class ProtocolServiceTest {

  private static final String NOTE =
      "67M h/o afib on apixaban, fell at home, struck head, now confused. r/o ICH.";

  @TempDir Path dir;
  private final GovernanceFixture fixture = new GovernanceFixture();
  private FileAuditStore audit;
  private ProtoradServer server;
  private ManagedChannel channel;
  private PredictionQueue queue;
  private PredictionStore predictions;

  @BeforeEach
  void start() throws Exception {
    audit =
        FileAuditStore.builder(dir.resolve("audit"))
            .writerId("test")
            .checkpointKeys(CheckpointKeys.generateInMemory())
            .open();
    PolicyEngine policy = PolicyEngine.create(fixture.policy(), Clock.systemUTC());
    queue =
        PredictionQueue.create(TinyModel.shared().predictor(), PredictionQueue.Settings.DEFAULTS);
    NoteHmac hmac = NoteHmac.ofBase64(Map.of("k1", NoteHmac.generateKey()), "k1");
    predictions = PredictionStore.open("jdbc:h2:file:" + dir.resolve("predictions"), "sa", "");
    var protocol =
        ProtocolServices.create(
            TinyModel.shared().predictor(),
            AdapterResolver.baseOnly(),
            queue,
            predictions,
            hmac,
            policy,
            BreakGlass.create(policy, Clock.systemUTC(), new SecureRandom()),
            Clock.systemUTC());
    String name = InProcessServerBuilder.generateName();
    server =
        ProtoradServer.builder(InProcessServerBuilder.forName(name))
            .protocolService(protocol)
            .governance(policy, audit)
            .build()
            .start();
    server.markServing();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdown(Duration.ZERO);
    queue.close();
    predictions.close();
    audit.close();
  }

  private <S extends AbstractStub<S>> S as(S stub, String key, String breakGlassReason) {
    Metadata h = new Metadata();
    h.put(AuthInterceptor.AUTHORIZATION, "Bearer " + key);
    if (breakGlassReason != null) {
      h.put(AuthInterceptor.BREAK_GLASS_REASON, breakGlassReason);
    }
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
  }

  private ProtocolServiceGrpc.ProtocolServiceBlockingStub protocolAs(String role) {
    return as(ProtocolServiceGrpc.newBlockingStub(channel), fixture.keyByRole.get(role), null);
  }

  private static AssignProtocolRequest order(String orderId) {
    return AssignProtocolRequest.newBuilder()
        .setOrderId(orderId)
        .setPatientRef("PT-1")
        .setNote(NOTE)
        .setTopK(3)
        .build();
  }

  private AuditEvent auditEvent(String eventId) {
    return audit.query(AuditQuery.builder().pageSize(1000).build()).events().stream()
        .filter(e -> e.eventId().equals(eventId))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void assignProtocol_asClinician_returnsCatalogLabelWithDurableAuditEvent() {
    AssignProtocolResponse r = protocolAs("clinician").assignProtocol(order("A-1"));

    Catalog catalog = Catalog.loadDefault();
    assertThat(catalog.contains(r.getLabel().getId())).isTrue();
    assertThat(r.getAlternativesList()).hasSize(3);
    assertThat(r.getAlternatives(0).getLabel()).isEqualTo(r.getLabel());
    assertThat(r.getAlternativesList())
        .extracting(ScoredLabel::getProbability)
        .isSortedAccordingTo((a, b) -> Float.compare(b, a));
    assertThat(r.getConfidence()).isEqualTo(r.getAlternatives(0).getProbability());
    AuditEvent event = auditEvent(r.getAuditEventId());
    assertThat(event.details().predictionId()).isEqualTo(r.getPredictionId());
    assertThat(event.details().labelId()).isEqualTo(r.getLabel().getId());
    assertThat(event.details().orderId()).isEqualTo("A-1");
    assertThat(event.details().noteHmac()).hasSize(64);
    assertThat(event.details().baseFingerprint()).isEqualTo(TinyModel.shared().fingerprint());
  }

  @Test
  void assignProtocol_withoutLabelRead_hidesLabel() {
    AssignProtocolResponse r = protocolAs("order-intake").assignProtocol(order("A-2"));

    assertThat(r.getPredictionId()).isNotEmpty();
    assertThat(r.getAuditEventId()).isNotEmpty();
    assertThat(r.hasLabel()).isFalse();
    assertThat(r.getConfidence()).isZero();
    assertThat(r.getAlternativesList()).isEmpty();
  }

  static Stream<Arguments> invalidRequests() {
    AssignProtocolRequest ok = order("A-3");
    return Stream.of(
        Arguments.of("missing order id", ok.toBuilder().clearOrderId().build(), "order_id"),
        Arguments.of("blank note", ok.toBuilder().setNote("   \n ").build(), "note"),
        Arguments.of("note too long", ok.toBuilder().setNote("x".repeat(20_001)).build(), "note"),
        Arguments.of(
            "only Unicode spaces",
            ok.toBuilder().setNote("\u00a0\u2003\u3000\u2009").build(),
            "note"),
        Arguments.of(
            "only zero-width characters",
            ok.toBuilder().setNote("\u200b\u200c\u200d\ufeff\u2060").build(),
            "note"),
        Arguments.of(
            "only control characters",
            ok.toBuilder().setNote("\u0001\u0002\u0007\u001b").build(),
            "note"),
        Arguments.of("top_k 11", ok.toBuilder().setTopK(11).build(), "top_k"),
        Arguments.of("top_k -1", ok.toBuilder().setTopK(-1).build(), "top_k"),
        Arguments.of("malformed adapter", ok.toBuilder().setAdapter("Bad Ref").build(), "adapter"),
        Arguments.of("order id with spaces", ok.toBuilder().setOrderId("a b").build(), "order_id"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidRequests")
  void assignProtocol_invalidInput_isInvalidArgumentNamingTheField(
      String name, AssignProtocolRequest request, String field) {
    assertThatThrownBy(() -> protocolAs("clinician").assignProtocol(request))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(badRequestField(e)).isEqualTo(field);
            });
  }

  @Test
  void
      assignProtocol_noteLongerThanTheContext_isAnsweredAndFlaggedTruncated_keptWithThePrediction() {
    StringBuilder note = new StringBuilder("82F admitted with sepsis. ");
    while (note.length() < 19_900) {
      note.append("Day ").append(note.length() % 97).append(": afebrile, obs stable, eating. ");
    }
    note.append("Now new RLQ pain and guarding, ?appendicitis.");

    AssignProtocolResponse r =
        protocolAs("clinician")
            .assignProtocol(order("A-long").toBuilder().setNote(note.toString()).build());

    assertThat(r.hasLabel()).isTrue();
    assertThat(r.getNeedsReview()).isTrue();
    assertThat(r.getReviewReasonsList()).contains("note-truncated");
    var stored =
        protocolAs("clinician")
            .getPrediction(
                GetPredictionRequest.newBuilder().setPredictionId(r.getPredictionId()).build())
            .getPrediction();
    assertThat(stored.getReviewReasonsList()).isEqualTo(r.getReviewReasonsList());
    assertThat(stored.getNeedsReview()).isTrue();
  }

  @Test
  void withoutLabelRead_noPathShowsTheLabel_flagsReasonsOrAuditedLabels() {
    String longNote = "Known lung cancer, restaging. " + "Stable, no new symptoms. ".repeat(700);
    AssignProtocolResponse intake =
        protocolAs("order-intake")
            .assignProtocol(order("H-1").toBuilder().setNote(longNote).build());
    AssignProtocolResponse clinician =
        protocolAs("clinician").assignProtocol(order("H-2").toBuilder().setNote(longNote).build());
    protocolAs("radiologist")
        .reviewPrediction(
            ReviewPredictionRequest.newBuilder()
                .setPredictionId(intake.getPredictionId())
                .setDecision(ReviewDecision.REVIEW_DECISION_CORRECT)
                .setCorrectedLabelId("pet-ct-fdg-skull-base-mid-thigh")
                .build());

    assertThat(clinician.getReviewReasonsList()).contains("note-truncated");
    assertThat(intake.getNeedsReview()).isTrue();
    assertThat(intake.getReviewReasonsList()).isEmpty();
    assertThat(intake.getFlagsList()).isEmpty();
    var events =
        as(
                AuditServiceGrpc.newBlockingStub(channel),
                fixture.keyByRole.get("compliance-officer"),
                null)
            .queryAuditEvents(
                QueryAuditEventsRequest.newBuilder()
                    .setAction("AssignProtocol")
                    .setPageSize(100)
                    .build())
            .getEventsList();
    assertThat(events).hasSizeGreaterThanOrEqualTo(2);
    assertThat(events).allMatch(e -> e.getLabelId().isEmpty() && e.getConfidence() == 0f);
    assertThat(auditEvent(clinician.getAuditEventId()).details().labelId()).isNotEmpty();
  }

  @Test
  void assignProtocol_shortNote_isNotFlaggedTruncated_andReasonsMatchNeedsReview() {
    AssignProtocolResponse r = protocolAs("clinician").assignProtocol(order("A-short"));

    assertThat(r.getReviewReasonsList()).doesNotContain("note-truncated");
    assertThat(r.getNeedsReview()).isEqualTo(!r.getReviewReasonsList().isEmpty());
  }

  /**
   * Calls {@code AssignProtocol} with raw request bytes, as a client with a broken encoder would.
   */
  private StatusRuntimeException assignRaw(byte[] request) {
    io.grpc.MethodDescriptor<byte[], byte[]> raw =
        ProtocolServiceGrpc.getAssignProtocolMethod().toBuilder(BYTES, BYTES).build();
    Metadata h = new Metadata();
    h.put(AuthInterceptor.AUTHORIZATION, "Bearer " + fixture.keyByRole.get("clinician"));
    io.grpc.Channel authed =
        io.grpc.ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(h));
    try {
      io.grpc.stub.ClientCalls.blockingUnaryCall(authed, raw, io.grpc.CallOptions.DEFAULT, request);
    } catch (StatusRuntimeException e) {
      return e;
    }
    throw new AssertionError("expected a refusal");
  }

  private static final io.grpc.MethodDescriptor.Marshaller<byte[]> BYTES =
      new io.grpc.MethodDescriptor.Marshaller<>() {
        @Override
        public java.io.InputStream stream(byte[] value) {
          return new java.io.ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(java.io.InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }
      };

  @Test
  void assignProtocol_invalidUtf8InTheNote_isInvalidArgumentNamingTheField_andAudited() {
    byte[] valid = order("U-1").toByteArray();
    byte[] broken = order("U-1").toBuilder().setNote("r/o PE \u00e9").build().toByteArray();
    // The note's last character, U+00E9, is the two bytes C3 A9: cut its continuation byte.
    for (int i = broken.length - 1; i > 0; i--) {
      if ((broken[i] & 0xff) == 0xa9 && (broken[i - 1] & 0xff) == 0xc3) {
        broken[i] = (byte) 0x28;
        break;
      }
    }

    StatusRuntimeException e = assignRaw(broken);
    StatusRuntimeException garbage = assignRaw(new byte[] {(byte) 0xff, (byte) 0xff, 0x01});

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(badRequestField(e)).isEqualTo("note");
    assertThat(garbage.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(valid).isNotEmpty();
    assertThat(
            audit.query(AuditQuery.builder().pageSize(1000).build()).events().stream()
                .filter(ev -> ev.details().statusCode().equals("INVALID_ARGUMENT")))
        .hasSizeGreaterThanOrEqualTo(2);
  }

  @Test
  void assignProtocol_unknownAdapter_isNotFound() {
    assertThatThrownBy(
            () ->
                protocolAs("clinician")
                    .assignProtocol(order("A-4").toBuilder().setAdapter("nope@3").build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  @Test
  void getPrediction_showsLabelOnlyWithLabelRead() {
    AssignProtocolResponse r = protocolAs("order-intake").assignProtocol(order("A-5"));
    GetPredictionRequest get =
        GetPredictionRequest.newBuilder().setPredictionId(r.getPredictionId()).build();

    var asClinician = protocolAs("clinician").getPrediction(get).getPrediction();

    assertThat(asClinician.getOrderId()).isEqualTo("A-5");
    assertThat(asClinician.hasLabel()).isTrue();
    assertThat(asClinician.getAuditEventId()).isEqualTo(r.getAuditEventId());
    assertThatThrownBy(() -> protocolAs("compliance-officer").getPrediction(get))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
  }

  @Test
  void breakGlass_withReason_showsLabelsAndIsAuditedAsItsOwnEvents() {
    var erDoc =
        as(ProtocolServiceGrpc.newBlockingStub(channel), fixture.erDocKey, "trauma bay, attending");
    var plain = as(ProtocolServiceGrpc.newBlockingStub(channel), fixture.erDocKey, null);

    AssignProtocolResponse hidden = plain.assignProtocol(order("BG-1"));
    AssignProtocolResponse shown = erDoc.assignProtocol(order("BG-2"));
    erDoc.assignProtocol(order("BG-3"));

    assertThat(hidden.hasLabel()).isFalse();
    assertThat(shown.hasLabel()).isTrue();
    List<AuditEvent> breakGlass =
        audit.query(AuditQuery.builder().breakGlassOnly(true).pageSize(100).build()).events();
    assertThat(breakGlass)
        .extracting(e -> e.details().action())
        .containsExactly(
            CallAudit.BREAK_GLASS_START,
            ProtocolServiceGrpc.getAssignProtocolMethod().getFullMethodName(),
            ProtocolServiceGrpc.getAssignProtocolMethod().getFullMethodName());
    assertThat(breakGlass)
        .allMatch(e -> e.details().breakGlassReason().equals("trauma bay, attending"));
    var compliance =
        as(
            AuditServiceGrpc.newBlockingStub(channel),
            fixture.keyByRole.get("compliance-officer"),
            null);
    assertThat(
            compliance
                .queryAuditEvents(
                    QueryAuditEventsRequest.newBuilder().setBreakGlassOnly(true).build())
                .getEventsCount())
        .isEqualTo(3);
  }

  @Test
  void breakGlass_withoutBreakglassInvoke_isDenied() {
    var intake =
        as(
            ProtocolServiceGrpc.newBlockingStub(channel),
            fixture.keyByRole.get("order-intake"),
            "curious");

    assertThatThrownBy(() -> intake.assignProtocol(order("BG-4")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
  }

  @Test
  void reviewPrediction_acceptsOnceThenFailsPrecondition() {
    AssignProtocolResponse r = protocolAs("radiologist").assignProtocol(order("R-1"));
    ReviewPredictionRequest correct =
        ReviewPredictionRequest.newBuilder()
            .setPredictionId(r.getPredictionId())
            .setDecision(ReviewDecision.REVIEW_DECISION_CORRECT)
            .setCorrectedLabelId("ct-head-wo")
            .build();

    var reviewed = protocolAs("radiologist").reviewPrediction(correct).getPrediction();

    assertThat(reviewed.getReview().getCorrectedLabelId()).isEqualTo("ct-head-wo");
    assertThat(reviewed.getReview().getReviewer()).isEqualTo("svc-radiologist");
    assertThatThrownBy(() -> protocolAs("radiologist").reviewPrediction(correct))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION));
  }

  @Test
  void reviewPrediction_unknownLabelOrDecision_isInvalidArgument() {
    AssignProtocolResponse r = protocolAs("radiologist").assignProtocol(order("R-2"));
    var base = ReviewPredictionRequest.newBuilder().setPredictionId(r.getPredictionId());

    assertThatThrownBy(() -> protocolAs("radiologist").reviewPrediction(base.build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(badRequestField(e)).isEqualTo("decision"));
    assertThatThrownBy(
            () ->
                protocolAs("radiologist")
                    .reviewPrediction(
                        base.setDecision(ReviewDecision.REVIEW_DECISION_CORRECT)
                            .setCorrectedLabelId("not-a-label")
                            .build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(badRequestField(e)).isEqualTo("corrected_label_id"));
  }

  @Test
  void assignProtocol_whenAuditStoreCannotWrite_failsClosedAndStoresNothing() {
    audit.close();

    assertThatThrownBy(() -> protocolAs("clinician").assignProtocol(order("F-1")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void noteText_neverAppearsInAuditFilesErrorsOrLogs() throws Exception {
    String canary = "CANARY-" + Long.toHexString(new SecureRandom().nextLong()) + " pt w/ h/a";
    ByteArrayOutputStream logs = new ByteArrayOutputStream();
    PrintStream originalErr = System.err;
    StringBuilder errors = new StringBuilder();
    System.setErr(new PrintStream(logs, true, StandardCharsets.UTF_8));
    try {
      AssignProtocolRequest withCanary = order("C-1").toBuilder().setNote(canary).build();
      protocolAs("clinician").assignProtocol(withCanary);
      protocolAs("order-intake").assignProtocol(withCanary);
      for (AssignProtocolRequest bad :
          List.of(
              withCanary.toBuilder().setTopK(99).build(),
              withCanary.toBuilder().clearOrderId().build(),
              withCanary.toBuilder().setNote(canary.repeat(2000)).build(),
              withCanary.toBuilder().setAdapter(canary).build())) {
        for (String role : List.of("clinician", "compliance-officer")) {
          try {
            protocolAs(role).assignProtocol(bad);
          } catch (StatusRuntimeException e) {
            errors.append(e.getStatus()).append(e.getTrailers()).append('\n');
          }
        }
      }
    } finally {
      System.setErr(originalErr);
    }
    audit.close();

    assertThat(errors.toString()).doesNotContain("CANARY");
    assertThat(logs.toString(StandardCharsets.UTF_8)).doesNotContain("CANARY");
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        assertThat(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1))
            .as(f.toString())
            .doesNotContain("CANARY");
      }
    }
  }

  @Test
  void assignProtocols_answersEveryItem_andAuditsEachPrediction() throws Exception {
    var stub = as(ProtocolServiceGrpc.newStub(channel), fixture.keyByRole.get("clinician"), null);
    java.util.concurrent.LinkedBlockingQueue<dev.protorad.api.v1.AssignProtocolsResponse> answers =
        new java.util.concurrent.LinkedBlockingQueue<>();
    java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
    StreamObserver<dev.protorad.api.v1.AssignProtocolsRequest> requests =
        stub.assignProtocols(
            new StreamObserver<>() {
              @Override
              public void onNext(dev.protorad.api.v1.AssignProtocolsResponse value) {
                answers.add(value);
              }

              @Override
              public void onError(Throwable t) {
                done.countDown();
              }

              @Override
              public void onCompleted() {
                done.countDown();
              }
            });
    for (int i = 0; i < 12; i++) {
      AssignProtocolRequest item =
          i == 5 ? order("B-" + i).toBuilder().setNote(" ").build() : order("B-" + i);
      requests.onNext(
          dev.protorad.api.v1.AssignProtocolsRequest.newBuilder()
              .setRequestId("r" + i)
              .setRequest(item)
              .build());
    }
    requests.onCompleted();

    assertThat(done.await(120, TimeUnit.SECONDS)).isTrue();
    assertThat(answers).hasSize(12);
    for (var a : answers) {
      if (a.getRequestId().equals("r5")) {
        assertThat(a.getError().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
        assertThat(a.getError().getField()).isEqualTo("note");
      } else {
        assertThat(a.getResponse().hasLabel()).isTrue();
        assertThat(auditEvent(a.getResponse().getAuditEventId()).details().predictionId())
            .isEqualTo(a.getResponse().getPredictionId());
      }
    }
  }

  @Test
  void assignProtocols_slowReader_stopsBeingRead() throws Exception {
    var stub = as(ProtocolServiceGrpc.newStub(channel), fixture.keyByRole.get("clinician"), null);
    java.util.concurrent.atomic.AtomicReference<
            io.grpc.stub.ClientCallStreamObserver<dev.protorad.api.v1.AssignProtocolsRequest>>
        sender = new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.atomic.AtomicInteger received =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
    stub.assignProtocols(
        new io.grpc.stub.ClientResponseObserver<
            dev.protorad.api.v1.AssignProtocolsRequest,
            dev.protorad.api.v1.AssignProtocolsResponse>() {
          @Override
          public void beforeStart(
              io.grpc.stub.ClientCallStreamObserver<dev.protorad.api.v1.AssignProtocolsRequest> s) {
            sender.set(s);
            s.disableAutoRequestWithInitial(0);
          }

          @Override
          public void onNext(dev.protorad.api.v1.AssignProtocolsResponse value) {
            received.incrementAndGet();
          }

          @Override
          public void onError(Throwable t) {
            done.countDown();
          }

          @Override
          public void onCompleted() {
            done.countDown();
          }
        });
    var requests = sender.get();
    int sent = 0;
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < until && sent < 200) {
      if (requests.isReady()) {
        requests.onNext(
            dev.protorad.api.v1.AssignProtocolsRequest.newBuilder()
                .setRequestId("s" + sent)
                .setRequest(order("S-" + sent))
                .build());
        sent++;
      } else {
        Thread.sleep(10);
      }
    }

    // Nothing is read back, so the server stops asking for items after its window.
    assertThat(sent).isLessThanOrEqualTo(BulkAssignments.WINDOW + 2);
    requests.onCompleted();
    requests.request(Integer.MAX_VALUE);
    assertThat(done.await(120, TimeUnit.SECONDS)).isTrue();
    assertThat(received.get()).isEqualTo(sent);
  }

  private static String badRequestField(StatusRuntimeException e) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    assertThat(status).as("google.rpc.Status in trailers").isNotNull();
    try {
      return status.getDetails(0).unpack(BadRequest.class).getFieldViolations(0).getField();
    } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
      throw new AssertionError(ex);
    }
  }
}
