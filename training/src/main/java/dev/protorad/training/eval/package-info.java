/**
 * Evaluation (DESIGN §7): exact-match and top-3 accuracy, macro-F1, contrast-decision accuracy,
 * expected calibration error and confusion pairs ({@link dev.protorad.training.eval.Metrics}), the
 * TF-IDF + logistic regression baseline ({@link dev.protorad.training.eval.TfidfLogisticBaseline})
 * and the comparison table ({@link dev.protorad.training.eval.EvalReport}).
 */
@NullMarked
package dev.protorad.training.eval;

import org.jspecify.annotations.NullMarked;
