package dev.protorad.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.audit.Outcome;
import io.grpc.Status;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Only this project's own argument checks reach the client's status description; a library's
 * message, which may quote note text it was given, never does.
 */
class StatusesTest {

  private static final String NOTE = "RLQ pain, fever, pregnant 12 weeks";

  @Test
  void ownArgumentCheck_keepsItsMessage() {
    Status status =
        Statuses.toStatus(
            new IllegalArgumentException("order_id: empty (expected: 1..128 characters)"));

    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(status.getDescription()).isEqualTo("order_id: empty (expected: 1..128 characters)");
  }

  @Test
  void libraryExceptions_quotingTheirInput_getAGenericDescription() {
    Status number = Statuses.toStatus(caught(() -> Integer.parseInt(NOTE)));
    Status enumName = Statuses.toStatus(caught(() -> Outcome.valueOf(NOTE)));
    String unclosed = "(" + NOTE.toLowerCase(java.util.Locale.ROOT);
    Status regex = Statuses.toStatus(caught(() -> Pattern.compile(unclosed)));
    Status empty = Statuses.toStatus(caught(() -> Optional.empty().orElseThrow()));

    assertThat(number.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(enumName.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(regex.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(empty.getCode()).isEqualTo(Status.Code.NOT_FOUND);
    for (Status s : new Status[] {number, enumName, regex, empty}) {
      assertThat(s.getDescription()).doesNotContain("RLQ", "rlq", "pregnant");
    }
  }

  @Test
  void ownLookup_keepsItsMessage_butAnEmptyOptionalDoesNot() {
    Status own = Statuses.toStatus(new NoSuchElementException("no such job"));

    assertThat(own.getDescription()).isEqualTo("no such job");
    assertThat(Statuses.toStatus(caught(() -> Optional.empty().get())).getDescription())
        .isEqualTo("not found");
  }

  private static RuntimeException caught(Supplier<?> call) {
    Object result;
    try {
      result = call.get();
    } catch (RuntimeException e) {
      return e;
    }
    throw new AssertionError("expected an exception, got " + result);
  }
}
