/**
 * The model's configuration ({@link dev.protorad.engine.ModelConfig}) and the one exception a
 * checkpoint that cannot be read raises ({@link dev.protorad.engine.CheckpointException}).
 */
@NullMarked
package dev.protorad.engine;

import org.jspecify.annotations.NullMarked;
