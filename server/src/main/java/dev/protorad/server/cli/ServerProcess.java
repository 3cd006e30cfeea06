package dev.protorad.server.cli;

import dev.protorad.server.api.ProtoradServer;
import dev.protorad.server.config.ServerConfig;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Runs a {@link ProtoradServer} on TCP until SIGTERM or SIGINT, then drains: stops accepting, lets
 * calls in flight finish within the configured grace, and returns so the process exits 0.
 */
final class ServerProcess {

  private static final Logger log = LoggerFactory.getLogger(ServerProcess.class);

  private final ServerConfig config;
  private final PrintStream out;
  private final CountDownLatch stopRequested = new CountDownLatch(1);
  private ProtoradServer server;

  ServerProcess(ServerConfig config, PrintStream out) {
    this.config = config;
    this.out = out;
  }

  /** Starts listening and reports SERVING. */
  ProtoradServer start() throws IOException {
    Files.createDirectories(config.dataDir());
    NettyServerBuilder netty =
        NettyServerBuilder.forAddress(new InetSocketAddress(config.host(), config.port()));
    server = ProtoradServer.builder(netty).build().start();
    server.markServing();
    out.printf(
        "protorad: listening on %s:%d (data dir %s)%n",
        config.host(), server.port(), config.dataDir());
    out.flush();
    return server;
  }

  /** Blocks until a stop signal, then drains and returns. */
  void serveUntilSignalled() throws InterruptedException {
    for (String name : new String[] {"TERM", "INT"}) {
      Signal.handle(new Signal(name), signal -> stopRequested.countDown());
    }
    stopRequested.await();
    stop();
  }

  /** Drains within the configured grace period. */
  void stop() throws InterruptedException {
    Duration grace = config.shutdownGrace();
    out.printf("protorad: shutting down (grace %ds)%n", grace.toSeconds());
    out.flush();
    boolean clean = server.shutdown(grace);
    if (!clean) {
      log.warn("calls still running after {}s were cancelled", grace.toSeconds());
    }
    out.println("protorad: stopped");
    out.flush();
  }
}
