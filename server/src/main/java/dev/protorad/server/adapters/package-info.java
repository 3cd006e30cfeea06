/** The adapter store: immutable LoRA adapter versions, their metadata and aliases. */
@NullMarked
package dev.protorad.server.adapters;

import org.jspecify.annotations.NullMarked;
