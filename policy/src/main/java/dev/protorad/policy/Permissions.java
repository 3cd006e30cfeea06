package dev.protorad.policy;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The permissions the ProtoRad API checks, and the syntax every permission string follows: {@code
 * domain:action[:instance]} in Shiro wildcard notation, lower case, where a part may be {@code *}
 * or a comma-separated list.
 */
public final class Permissions {
  /** Submit a clinical note for a prediction. */
  public static final String NOTE_SUBMIT = "note:submit";

  /** See the predicted protocol label (without it, only the prediction id). */
  public static final String LABEL_READ = "label:read";

  /**
   * Read the note a prediction was made from, as the server kept it (each read audited). The one
   * permission that shows note text.
   */
  public static final String NOTE_READ = "note:read";

  /** Read a stored prediction. */
  public static final String PREDICTION_READ = "prediction:read";

  /** Accept or correct a prediction. */
  public static final String PREDICTION_REVIEW = "prediction:review";

  /** List and inspect adapters. */
  public static final String ADAPTER_READ = "adapter:read";

  /** Import, export and archive adapter versions. */
  public static final String ADAPTER_MANAGE = "adapter:manage";

  /** Move adapter aliases such as {@code production}. */
  public static final String ADAPTER_PROMOTE = "adapter:promote";

  /** Start, watch and cancel fine-tuning jobs. */
  public static final String TRAINING_RUN = "training:run";

  /** Query audit events. */
  public static final String AUDIT_READ = "audit:read";

  /** Verify the audit log. */
  public static final String AUDIT_VERIFY = "audit:verify";

  /** Forward end-user tokens as a gateway. */
  public static final String IDENTITY_ASSERT = "identity:assert";

  /** Open a break-glass grant. */
  public static final String BREAKGLASS_INVOKE = "breakglass:invoke";

  /** Every permission the API checks. */
  public static final List<String> ALL =
      List.of(
          NOTE_SUBMIT,
          LABEL_READ,
          NOTE_READ,
          PREDICTION_READ,
          PREDICTION_REVIEW,
          ADAPTER_READ,
          ADAPTER_MANAGE,
          ADAPTER_PROMOTE,
          TRAINING_RUN,
          AUDIT_READ,
          AUDIT_VERIFY,
          IDENTITY_ASSERT,
          BREAKGLASS_INVOKE);

  private static final String TOKEN = "[a-z0-9][a-z0-9._@-]{0,127}";
  private static final String PART = "(\\*|" + TOKEN + "(," + TOKEN + ")*)";
  private static final Pattern SYNTAX = Pattern.compile(PART + ":" + PART + "(:" + PART + ")?");

  private Permissions() {}

  /** Whether {@code permission} is a well-formed {@code domain:action[:instance]} string. */
  public static boolean isWellFormed(String permission) {
    return permission != null && SYNTAX.matcher(permission).matches();
  }

  static String requireWellFormed(String permission) {
    if (!isWellFormed(permission)) {
      throw new IllegalArgumentException(
          "permission: " + permission + " (expected: domain:action[:instance], lower case)");
    }
    return permission;
  }
}
