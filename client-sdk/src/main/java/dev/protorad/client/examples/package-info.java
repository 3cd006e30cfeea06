/**
 * Runnable examples of the client SDK, one per kind of caller: {@link
 * dev.protorad.client.examples.InternalServiceExample} (a service with its own API key), {@link
 * dev.protorad.client.examples.GatewayExample} (a gateway asserting an end user with a JWT) and
 * {@link dev.protorad.client.examples.ComplianceExample} (a compliance officer querying and
 * verifying the audit trail). Each reads {@code HOST:PORT} and credentials from its arguments or
 * the environment, prints what it did, and exits non-zero with a one-line message on failure.
 *
 * <p>They are sample programs, not API: read them, copy them; nothing here is kept compatible.
 */
@NullMarked
package dev.protorad.client.examples;

import org.jspecify.annotations.NullMarked;
