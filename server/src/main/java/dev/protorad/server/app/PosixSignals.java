package dev.protorad.server.app;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * Handlers for POSIX signals (TERM and INT drain the server, HUP reloads the policy) through the
 * JDK's {@code sun.misc.Signal} ({@code jdk.unsupported}), reached reflectively: javac's warning
 * about that internal API cannot be suppressed, and the build treats warnings as errors.
 */
final class PosixSignals {

  private PosixSignals() {}

  /**
   * Runs {@code action} on the JVM's signal thread each time the process receives {@code SIGname}.
   *
   * @throws IllegalStateException when the JVM offers no such signal or no handler API
   */
  static void handle(String name, Runnable action) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Object proxy =
          Proxy.newProxyInstance(
              handler.getClassLoader(),
              new Class<?>[] {handler},
              (self, method, args) -> dispatch(self, method, args, action));
      Object sig = signal.getConstructor(String.class).newInstance(name);
      signal.getMethod("handle", signal, handler).invoke(null, sig, proxy);
    } catch (ReflectiveOperationException | IllegalArgumentException e) {
      throw new IllegalStateException("signal " + name + ": cannot install a handler", e);
    }
  }

  private static Object dispatch(Object self, Method method, Object[] args, Runnable action) {
    return switch (method.getName()) {
      case "handle" -> {
        action.run();
        yield true; // ignored: SignalHandler.handle returns void
      }
      case "hashCode" -> System.identityHashCode(self);
      case "equals" -> self == args[0];
      default -> "PosixSignals handler";
    };
  }
}
