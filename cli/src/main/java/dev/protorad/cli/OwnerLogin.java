package dev.protorad.cli;

import java.util.Optional;
import org.postgresql.ds.PGSimpleDataSource;
import picocli.CommandLine.Option;

/** The schema owner's PostgreSQL login of the {@code migrate} commands. */
final class OwnerLogin {

  @Option(
      names = "--jdbc-url",
      required = true,
      paramLabel = "URL",
      description = "jdbc:postgresql://HOST/DB (add ?currentSchema=NAME for another schema).")
  String jdbcUrl;

  @Option(names = "--user", required = true, description = "The role that owns the schema.")
  String user;

  @Option(
      names = "--password-env",
      paramLabel = "VAR",
      description = "Environment variable holding the owner's password.")
  String passwordEnv;

  @Option(
      names = "--grant-to",
      paramLabel = "ROLE",
      description = "The role the server logs in as.")
  String grantTo;

  /** The problem with {@code --jdbc-url}, if it is not a PostgreSQL URL. */
  Optional<String> urlProblem() {
    return jdbcUrl.startsWith("jdbc:postgresql:")
        ? Optional.empty()
        : Optional.of("--jdbc-url: expected jdbc:postgresql://HOST/DB");
  }

  PGSimpleDataSource dataSource() {
    PGSimpleDataSource owner = new PGSimpleDataSource();
    owner.setUrl(jdbcUrl);
    owner.setUser(user);
    if (passwordEnv != null) {
      owner.setPassword(System.getenv().getOrDefault(passwordEnv, ""));
    }
    return owner;
  }

  Optional<String> serverRole() {
    return Optional.ofNullable(grantTo);
  }
}
