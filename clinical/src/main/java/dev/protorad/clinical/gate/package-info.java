/**
 * The review gate: which predictions go to a radiologist, and why. A gate is fitted per adapter
 * version on a calibration split that training never sees ({@link
 * dev.protorad.clinical.gate.GateFitter}), stored in the version's {@code metadata.json} with a
 * {@link dev.protorad.clinical.gate.LexicalModel} beside it, and applied at serving time ({@link
 * dev.protorad.clinical.gate.ReviewGate#assess} and {@link
 * dev.protorad.clinical.gate.ReviewGate#reasons}).
 */
@NullMarked
package dev.protorad.clinical.gate;

import org.jspecify.annotations.NullMarked;
