/** OpenTelemetry: traces, metrics and logs for the server, with no note text in any of them. */
@NullMarked
package dev.protorad.server.telemetry;

import org.jspecify.annotations.NullMarked;
