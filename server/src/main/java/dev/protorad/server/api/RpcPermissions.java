package dev.protorad.server.api;

import dev.protorad.api.v1.AdapterServiceGrpc;
import dev.protorad.api.v1.AuditServiceGrpc;
import dev.protorad.api.v1.ProtocolServiceGrpc;
import dev.protorad.api.v1.TrainingServiceGrpc;
import io.grpc.MethodDescriptor;
import java.util.Map;
import java.util.Optional;

/**
 * The one table of which permission each RPC needs. A method missing from it is refused (deny by
 * default), so a new RPC cannot ship open by accident; a test checks that every method of every
 * {@code protorad.v1} service is listed.
 *
 * <p>Field-level rules come on top, in the services: labels only with {@code label:read}; note text
 * only through {@code GetPredictionNote}, to {@code note:read}.
 */
final class RpcPermissions {

  private static final Map<String, String> BY_METHOD =
      Map.ofEntries(
          entry(ProtocolServiceGrpc.getAssignProtocolMethod(), "note:submit"),
          entry(ProtocolServiceGrpc.getAssignProtocolsMethod(), "note:submit"),
          entry(ProtocolServiceGrpc.getGetPredictionMethod(), "prediction:read"),
          entry(ProtocolServiceGrpc.getReviewPredictionMethod(), "prediction:review"),
          entry(ProtocolServiceGrpc.getListPredictionsMethod(), "prediction:read"),
          entry(ProtocolServiceGrpc.getGetCatalogMethod(), "label:read"),
          entry(ProtocolServiceGrpc.getGetPredictionNoteMethod(), "note:read"),
          entry(AdapterServiceGrpc.getListAdaptersMethod(), "adapter:read"),
          entry(AdapterServiceGrpc.getGetAdapterMethod(), "adapter:read"),
          entry(AdapterServiceGrpc.getExportAdapterMethod(), "adapter:read"),
          entry(AdapterServiceGrpc.getImportAdapterMethod(), "adapter:manage"),
          entry(AdapterServiceGrpc.getArchiveAdapterVersionMethod(), "adapter:manage"),
          entry(AdapterServiceGrpc.getSetAdapterAliasMethod(), "adapter:promote"),
          entry(TrainingServiceGrpc.getStartFineTuneMethod(), "training:run"),
          entry(TrainingServiceGrpc.getUploadDatasetMethod(), "training:run"),
          entry(TrainingServiceGrpc.getWatchFineTuneMethod(), "training:run"),
          entry(TrainingServiceGrpc.getCancelFineTuneMethod(), "training:run"),
          entry(TrainingServiceGrpc.getListFineTuneJobsMethod(), "training:run"),
          entry(AuditServiceGrpc.getQueryAuditEventsMethod(), "audit:read"),
          entry(AuditServiceGrpc.getVerifyAuditLogMethod(), "audit:verify"));

  private RpcPermissions() {}

  /** The permission {@code method} needs, or empty when the method is not in the table. */
  static Optional<String> permissionFor(MethodDescriptor<?, ?> method) {
    return Optional.ofNullable(BY_METHOD.get(method.getFullMethodName()));
  }

  /** Every RPC in the table, by full method name. */
  static Map<String, String> all() {
    return BY_METHOD;
  }

  private static Map.Entry<String, String> entry(MethodDescriptor<?, ?> method, String permission) {
    return Map.entry(method.getFullMethodName(), permission);
  }
}
