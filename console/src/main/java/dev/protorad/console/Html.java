package dev.protorad.console;

/** Escaping for server-rendered pages: every value written into HTML goes through {@link #text}. */
final class Html {

  private Html() {}

  /** {@code value} safe as element text or a quoted attribute value. */
  static String text(String value) {
    StringBuilder out = new StringBuilder(value.length() + 16);
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }

  /** A hidden form field carrying the session's CSRF token. */
  static String csrf(Session session) {
    return "<input type=\"hidden\" name=\"csrf\" value=\"" + text(session.csrf()) + "\">";
  }
}
