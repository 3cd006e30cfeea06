/** The server's YAML configuration: loading, defaults and validation. */
@NullMarked
package dev.protorad.server.config;

import org.jspecify.annotations.NullMarked;
