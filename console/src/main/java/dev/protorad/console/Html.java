package dev.protorad.console;

import java.util.List;

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

  /**
   * A table with element id {@code id}: {@code headers} as text, then one row per entry of {@code
   * rows}, whose cells are already HTML.
   */
  static String table(String id, List<String> headers, List<List<String>> rows) {
    StringBuilder out = new StringBuilder("<table id=\"").append(text(id)).append("\"><thead><tr>");
    headers.forEach(h -> out.append("<th>").append(text(h)).append("</th>"));
    out.append("</tr></thead><tbody>");
    for (List<String> row : rows) {
      out.append("<tr>");
      row.forEach(cell -> out.append("<td>").append(cell).append("</td>"));
      out.append("</tr>");
    }
    return out.append("</tbody></table>").toString();
  }

  /** A hidden form field carrying the session's CSRF token. */
  static String csrf(Session session) {
    return "<input type=\"hidden\" name=\"csrf\" value=\"" + text(session.csrf()) + "\">";
  }
}
