/** The {@code protorad} commands (picocli). */
@NullMarked
package dev.protorad.cli;

import org.jspecify.annotations.NullMarked;
