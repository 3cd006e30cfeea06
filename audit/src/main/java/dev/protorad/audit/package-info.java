/**
 * The tamper-evident audit trail of ProtoRad: one {@link dev.protorad.audit.AuditEvent} per RPC
 * outcome, hash-chained per writer and sealed by Ed25519-signed checkpoints.
 *
 * <p>How the server uses it:
 *
 * <ol>
 *   <li>At start-up: {@link dev.protorad.audit.CheckpointKeys#load} (or {@code loadOrGenerate} for
 *       the demo), {@link dev.protorad.audit.NoteHmac#ofBase64} from configured keys, then {@link
 *       dev.protorad.audit.FileAuditStore#builder} or {@link
 *       dev.protorad.audit.PostgresAuditStore#builder} and {@code open()}.
 *   <li>Per call: build an {@link dev.protorad.audit.EventDraft} (note text only as {@link
 *       dev.protorad.audit.NoteHmac#digest}), then {@link
 *       dev.protorad.audit.AuditStore#appendAsync} (or the blocking {@link
 *       dev.protorad.audit.AuditStore#append} off the transport threads); answer only once it
 *       completed, and answer {@code UNAVAILABLE} on {@link
 *       dev.protorad.audit.AuditUnavailableException}.
 *   <li>For compliance: {@link dev.protorad.audit.AuditStore#query}, {@link
 *       dev.protorad.audit.AuditStore#verify}, {@link dev.protorad.audit.AuditExporter}, offline
 *       {@link dev.protorad.audit.AuditVerifier}; a daily {@link
 *       dev.protorad.audit.AuditStore#purgeExpired}.
 * </ol>
 *
 * <p>No type here depends on gRPC. Nothing here ever holds note text.
 */
@NullMarked
package dev.protorad.audit;

import org.jspecify.annotations.NullMarked;
