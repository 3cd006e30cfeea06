/**
 * Fixtures several modules' tests share: tiny real checkpoints, an embedded PostgreSQL, a clock
 * tests move by hand.
 */
@NullMarked
package dev.protorad.testing;

import org.jspecify.annotations.NullMarked;
