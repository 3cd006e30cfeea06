/**
 * The closed protocol catalog ({@link dev.protorad.clinical.catalog.Catalog}), its contraindication
 * rules, and the {@link dev.protorad.clinical.catalog.RuleChecker} that flags a predicted protocol
 * for review (contrast allergy, eGFR below 30, pregnancy, MRI-unsafe implants, …).
 */
@NullMarked
package dev.protorad.clinical.catalog;

import org.jspecify.annotations.NullMarked;
