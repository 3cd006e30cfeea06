package dev.protorad.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.policy.PolicyHolder.Outcome;
import dev.protorad.policy.PolicyHolder.ReloadResult;
import dev.protorad.testing.MutableClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyHolderTest {
  private static final Identity CLINICIAN =
      Identity.of("someone", PrincipalKind.USER, Set.of("clinician"));

  @TempDir Path dir;
  private Path file;
  private PolicyHolder holder;
  private final List<Policy> applied = new CopyOnWriteArrayList<>();
  private final List<List<PolicyError>> rejected = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() throws PolicyException {
    file = Fixture.write(dir, Fixture.yaml());
    holder = PolicyHolder.load(file);
    holder.addListener(
        new PolicyListener() {
          @Override
          public void onApplied(Policy policy) {
            applied.add(policy);
          }

          @Override
          public void onRejected(Policy current, List<PolicyError> errors) {
            rejected.add(errors);
          }
        });
  }

  private void rewrite(String yaml) throws IOException {
    Files.writeString(file, yaml);
  }

  private static String withClinician(String permissions) {
    return Fixture.yaml()
        .replace(
            "clinician: [note:submit, label:read, prediction:read]",
            "clinician: [" + permissions + "]");
  }

  @Test
  void reload_validChange_swapsToNewPolicy() throws IOException {
    Policy old = holder.current();
    rewrite(withClinician("note:submit"));

    ReloadResult result = holder.reload();

    assertThat(result.outcome()).isEqualTo(Outcome.APPLIED);
    assertThat(holder.current()).isSameAs(result.policy()).isNotSameAs(old);
    assertThat(holder.current().permissionsOf("clinician")).containsExactly("note:submit");
    assertThat(applied).containsExactly(result.policy());
  }

  @Test
  void reload_validChange_leavesOldSnapshotIntactForCallsInFlight() throws IOException {
    Policy old = holder.current();
    rewrite(withClinician("note:submit"));

    holder.reload();

    assertThat(old.permissionsOf("clinician"))
        .containsExactlyInAnyOrder("note:submit", "label:read", "prediction:read");
    assertThat(old.permits(Set.of("clinician"), Permissions.LABEL_READ)).isTrue();
  }

  @Test
  void reload_invalidChange_keepsOldPolicyAndSaysWhy() throws IOException {
    Policy old = holder.current();
    rewrite(withClinician("note:submit, Label-Read"));

    ReloadResult result = holder.reload();

    assertThat(result.outcome()).isEqualTo(Outcome.REJECTED);
    assertThat(holder.current()).isSameAs(old);
    assertThat(result.errors())
        .extracting(PolicyError::toString)
        .containsExactly(
            "policy.yaml:4: bad permission 'Label-Read' (expected domain:action[:instance], lower"
                + " case)");
    assertThat(rejected).containsExactly(result.errors());
    assertThat(applied).isEmpty();
  }

  @Test
  void reload_deletedFile_keepsOldPolicy() throws IOException {
    Policy old = holder.current();
    Files.delete(file);

    ReloadResult result = holder.reload();

    assertThat(result.outcome()).isEqualTo(Outcome.REJECTED);
    assertThat(result.errors())
        .extracting(PolicyError::toString)
        .containsExactly("policy.yaml: cannot read the file");
    assertThat(holder.current()).isSameAs(old);
  }

  @Test
  void reload_sameContent_isUnchanged() {
    assertThat(holder.reload().outcome()).isEqualTo(Outcome.UNCHANGED);
    assertThat(applied).isEmpty();
  }

  @Test
  void checkForChange_rejectedFile_isReportedOncePerContent() throws IOException {
    rewrite("version: 1\nroles: {a: [bad]}\n");

    assertThat(holder.checkForChange().outcome()).isEqualTo(Outcome.REJECTED);
    assertThat(holder.checkForChange().outcome()).isEqualTo(Outcome.UNCHANGED);
    assertThat(holder.reload().outcome()).isEqualTo(Outcome.REJECTED);
    assertThat(rejected).hasSize(2);
  }

  @Test
  void checkForChange_badThenRevertedThenBadAgain_reportsAgain() throws IOException {
    String bad = "version: 1\nroles: {a: [bad]}\n";
    rewrite(bad);
    holder.checkForChange();
    rewrite(Fixture.yaml());
    assertThat(holder.checkForChange().outcome()).isEqualTo(Outcome.UNCHANGED);
    rewrite(bad);

    assertThat(holder.checkForChange().outcome()).isEqualTo(Outcome.REJECTED);
  }

  @Test
  void load_invalidInitialFile_failsFast() throws IOException {
    rewrite("version: 1\nroles: {a: [bad]}\n");

    assertThatThrownBy(() -> PolicyHolder.load(file))
        .isInstanceOf(PolicyException.class)
        .hasMessageContaining("policy.yaml:2: bad permission 'bad'");
  }

  @Test
  void start_fileChangedOnDisk_isAppliedByTheWatcher() throws Exception {
    BlockingQueue<Policy> seen = new LinkedBlockingQueue<>();
    try (PolicyHolder watched = PolicyHolder.load(file, Duration.ofMillis(20))) {
      watched.addListener(
          new PolicyListener() {
            @Override
            public void onApplied(Policy policy) {
              seen.add(policy);
            }
          });
      watched.start();
      rewrite(withClinician("note:submit"));

      Policy fresh = seen.poll(30, TimeUnit.SECONDS);

      assertThat(fresh).as("the watcher applied the new file").isNotNull();
      assertThat(watched.current().permissionsOf("clinician")).containsExactly("note:submit");
    }
  }

  @Test
  void isPermitted_afterReload_usesNewPolicyNotCachedDecision() throws IOException {
    PolicyEngine engine = PolicyEngine.create(holder, new MutableClock(Fixture.NOW));
    assertThat(engine.isPermitted(CLINICIAN, Permissions.LABEL_READ)).isTrue();
    assertThat(engine.isPermitted(CLINICIAN, Permissions.PREDICTION_REVIEW)).isFalse();
    rewrite(withClinician("note:submit, prediction:review"));

    holder.reload();

    assertThat(engine.isPermitted(CLINICIAN, Permissions.LABEL_READ)).isFalse();
    assertThat(engine.isPermitted(CLINICIAN, Permissions.PREDICTION_REVIEW)).isTrue();
  }

  @Test
  void isPermitted_duringManyReloads_neverFailsAPermissionPresentInEveryVersion() throws Exception {
    PolicyEngine engine = PolicyEngine.create(holder, new MutableClock(Fixture.NOW));
    String a = withClinician("note:submit, label:read");
    String b = withClinician("note:submit, prediction:read");
    ExecutorService readers = Executors.newFixedThreadPool(2);
    AtomicInteger denials = new AtomicInteger();
    AtomicBoolean done = new AtomicBoolean();
    List<Future<?>> futures = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      futures.add(
          readers.submit(
              () -> {
                while (!done.get()) {
                  if (!engine.isPermitted(CLINICIAN, Permissions.NOTE_SUBMIT)) {
                    denials.incrementAndGet();
                  }
                }
              }));
    }
    try {
      for (int i = 0; i < 20; i++) {
        rewrite(i % 2 == 0 ? a : b);
        assertThat(holder.reload().outcome()).isEqualTo(Outcome.APPLIED);
      }
    } finally {
      done.set(true);
      for (Future<?> future : futures) {
        future.get(30, TimeUnit.SECONDS);
      }
      readers.shutdown();
    }

    assertThat(denials).hasValue(0);
    assertThat(applied).hasSize(20);
  }

  @Test
  void isPermitted_afterRejectedReload_keepsOldDecisions() throws IOException {
    PolicyEngine engine = PolicyEngine.create(holder, new MutableClock(Fixture.NOW));
    rewrite("not: [valid");

    holder.reload();

    assertThat(engine.isPermitted(CLINICIAN, Permissions.LABEL_READ)).isTrue();
  }

  @Test
  void authenticateApiKey_afterReloadRemovingPrincipal_isRejected() throws IOException {
    PolicyEngine engine = PolicyEngine.create(holder, new MutableClock(Fixture.NOW));
    assertThat(engine.authenticateApiKey(Fixture.INTAKE_KEY.key())).isPresent();
    rewrite(Fixture.yaml().replace(Fixture.INTAKE_KEY.hash(), ApiKeys.hash("prk_rotated")));

    holder.reload();

    assertThat(engine.authenticateApiKey(Fixture.INTAKE_KEY.key())).isEmpty();
    assertThat(engine.authenticateApiKey("prk_rotated"))
        .map(Identity::principalId)
        .contains("intake");
  }
}
