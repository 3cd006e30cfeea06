/**
 * The Java client of ProtoRad's gRPC API: {@link dev.protorad.client.ProtoradClient}, a small
 * facade over the generated stubs that adds credentials and turns statuses into {@link
 * dev.protorad.client.ProtoradException}.
 */
@NullMarked
package dev.protorad.client;

import org.jspecify.annotations.NullMarked;
