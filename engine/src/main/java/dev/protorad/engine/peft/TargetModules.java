package dev.protorad.engine.peft;

import static java.util.Objects.requireNonNull;

import dev.protorad.engine.checkpoint.Projection;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.jspecify.annotations.Nullable;

/**
 * PEFT's {@code target_modules}: a list of module names (a module is targeted when its full name
 * equals an entry or ends with {@code "." + entry}), a regular expression (full match against the
 * module name, e.g. {@code model.layers.0.self_attn.q_proj}), or {@code "all-linear"} (every
 * projection; the LM head is never targeted).
 */
public final class TargetModules {
  /** PEFT's shorthand for every linear layer but the output layer. */
  public static final String ALL_LINEAR = "all-linear";

  private final @Nullable List<String> names;
  private final @Nullable Pattern regex;
  private final @Nullable String text;

  private TargetModules(
      @Nullable List<String> names, @Nullable Pattern regex, @Nullable String text) {
    this.names = names;
    this.regex = regex;
    this.text = text;
  }

  /** A list of module names such as {@code q_proj} or {@code layers.0.self_attn.q_proj}. */
  public static TargetModules of(List<String> names) {
    requireNonNull(names, "names");
    if (names.isEmpty()) {
      throw new IllegalArgumentException("target_modules: [] (expected: at least one module)");
    }
    return new TargetModules(List.copyOf(names), null, null);
  }

  /** The given module names. */
  public static TargetModules of(String... names) {
    return of(List.of(names));
  }

  /** Every projection. */
  public static TargetModules allLinear() {
    return new TargetModules(null, null, ALL_LINEAR);
  }

  /** A regular expression, or {@code "all-linear"}. */
  public static TargetModules parse(String expression) {
    requireNonNull(expression, "expression");
    if (expression.equals(ALL_LINEAR)) {
      return allLinear();
    }
    try {
      return new TargetModules(null, Pattern.compile(expression), expression);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException(
          "target_modules: " + expression + " (expected: a valid regular expression)", e);
    }
  }

  /** The list form, if this is a list. */
  public Optional<List<String>> names() {
    return Optional.ofNullable(names);
  }

  /** The string form ({@code "all-linear"} or a regex), if this is one. */
  public Optional<String> expression() {
    return Optional.ofNullable(text);
  }

  /**
   * Whether PEFT would wrap module {@code modulePath} (e.g. {@code model.layers.0.mlp.up_proj}).
   */
  public boolean matches(String modulePath) {
    requireNonNull(modulePath, "modulePath");
    if (names != null) {
      return names.stream().anyMatch(n -> modulePath.equals(n) || modulePath.endsWith("." + n));
    }
    if (regex != null) {
      return regex.matcher(modulePath).matches();
    }
    return true;
  }

  /** Whether projection {@code p} of layer {@code layer} is targeted. */
  public boolean matches(int layer, Projection p) {
    return matches(p.modulePath(layer));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TargetModules t
        && java.util.Objects.equals(names, t.names)
        && java.util.Objects.equals(text, t.text);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(names, text);
  }

  @Override
  public String toString() {
    return names != null ? names.toString() : String.valueOf(text);
  }
}
