/**
 * Training data: the synthetic note generator ({@link dev.protorad.training.data.SyntheticNotes}),
 * near-duplicate control across splits, and validation of JSONL datasets ({@link
 * dev.protorad.training.data.DatasetValidator}). Nothing here logs or reports note text.
 */
@NullMarked
package dev.protorad.training.data;

import org.jspecify.annotations.NullMarked;
