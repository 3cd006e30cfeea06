package dev.protorad.console;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** Apache ECharts, from its WebJar on the class path: served by the console, never fetched. */
final class Charts {

  static final String ECHARTS = "/META-INF/resources/webjars/echarts/5.3.1/dist/echarts.min.js";

  private Charts() {}

  static byte[] echarts() {
    try (InputStream in = Charts.class.getResourceAsStream(ECHARTS)) {
      if (in == null) {
        throw new IllegalStateException("ECharts missing from the class path: " + ECHARTS);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
