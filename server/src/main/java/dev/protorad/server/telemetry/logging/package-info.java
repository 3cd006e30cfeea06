/**
 * The server's SLF4J backend: one line per event on standard error, as text or as JSON carrying the
 * current trace and span ids ({@code PROTORAD_LOG_FORMAT}).
 */
@NullMarked
package dev.protorad.server.telemetry.logging;

import org.jspecify.annotations.NullMarked;
