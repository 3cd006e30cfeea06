package dev.protorad.clinical.catalog;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * One catalog rule: when its condition holds, prefer some protocols and avoid others.
 *
 * @param when the condition, in words
 * @param prefer protocol ids to prefer, in the catalog's order (often a pathway order)
 * @param avoid protocol ids to avoid
 * @param why the rationale and its sources
 */
public record Rule(String when, List<String> prefer, List<String> avoid, String why) {

  /** Validates and copies the fields. */
  public Rule {
    requireNonNull(when, "when");
    prefer = List.copyOf(requireNonNull(prefer, "prefer"));
    avoid = List.copyOf(requireNonNull(avoid, "avoid"));
    requireNonNull(why, "why");
  }
}
