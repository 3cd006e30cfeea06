/**
 * The gRPC services and interceptors: authentication, permissions, audit of every call, status
 * mapping.
 */
@NullMarked
package dev.protorad.server.api;

import org.jspecify.annotations.NullMarked;
