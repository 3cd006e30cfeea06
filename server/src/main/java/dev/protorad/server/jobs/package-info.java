/**
 * Fine-tuning jobs: each runs a {@code FineTuner} on its own thread, streams its progress, and
 * registers the result as a new, immutable adapter version.
 */
@NullMarked
package dev.protorad.server.jobs;

import org.jspecify.annotations.NullMarked;
