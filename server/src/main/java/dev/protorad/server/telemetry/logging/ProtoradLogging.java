package dev.protorad.server.telemetry.logging;

import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.NOPMDCAdapter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The SLF4J provider of the server process (registered in {@code META-INF/services}): lines on
 * standard error as {@link LineLogger} writes them, levels and format from {@link LogSettings}.
 */
public final class ProtoradLogging implements SLF4JServiceProvider {

  private @Nullable ILoggerFactory factory;
  private final IMarkerFactory markers = new BasicMarkerFactory();
  private final MDCAdapter mdc = new NOPMDCAdapter();

  @Override
  public ILoggerFactory getLoggerFactory() {
    return Optional.ofNullable(factory)
        .orElseThrow(() -> new IllegalStateException("logging not initialized"));
  }

  @Override
  public IMarkerFactory getMarkerFactory() {
    return markers;
  }

  @Override
  public MDCAdapter getMDCAdapter() {
    return mdc;
  }

  @Override
  public String getRequestedApiVersion() {
    return "2.0.99";
  }

  @Override
  public void initialize() {
    LogSettings settings = LogSettings.load();
    ConcurrentMap<String, Logger> loggers = new ConcurrentHashMap<>();
    factory =
        name ->
            loggers.computeIfAbsent(
                name,
                n ->
                    new LineLogger(
                        n,
                        settings.levelOf(n),
                        settings.json(),
                        () -> System.err,
                        Clock.systemUTC()));
  }
}
