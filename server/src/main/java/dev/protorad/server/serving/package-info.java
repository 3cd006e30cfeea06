/**
 * Serving: the prediction queue, the predictor over the engine's label scorer, the prediction store
 * and the note vault.
 */
@NullMarked
package dev.protorad.server.serving;

import org.jspecify.annotations.NullMarked;
