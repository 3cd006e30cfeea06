package dev.protorad.server.api;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** JUnit 5 extension that shuts down registered servers and channels after each test. */
public final class GrpcCleanup implements AfterEachCallback {

  private final Deque<Runnable> closers = new ArrayDeque<>();

  public <T extends ManagedChannel> T register(T channel) {
    closers.push(() -> awaitQuietly(channel.shutdownNow()));
    return channel;
  }

  public <T extends Server> T register(T server) {
    closers.push(() -> awaitQuietly(server.shutdownNow()));
    return server;
  }

  @Override
  public void afterEach(ExtensionContext context) {
    while (!closers.isEmpty()) {
      closers.pop().run();
    }
  }

  private static void awaitQuietly(ManagedChannel channel) {
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void awaitQuietly(Server server) {
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
