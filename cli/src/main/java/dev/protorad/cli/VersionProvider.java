package dev.protorad.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** Reads the version the build wrote into {@code version.properties}. */
final class VersionProvider implements IVersionProvider {

  @Override
  public String[] getVersion() throws IOException {
    return new String[] {"protorad " + version()};
  }

  static String version() throws IOException {
    Properties p = new Properties();
    try (InputStream in =
        VersionProvider.class.getResourceAsStream("/dev/protorad/cli/version.properties")) {
      if (in != null) {
        p.load(in);
      }
    }
    return p.getProperty("version", "unknown");
  }
}
