/**
 * The composition root: {@link dev.protorad.server.app.ServerProcess} wires governance, the model,
 * the stores and the gRPC server.
 */
@NullMarked
package dev.protorad.server.app;

import org.jspecify.annotations.NullMarked;
