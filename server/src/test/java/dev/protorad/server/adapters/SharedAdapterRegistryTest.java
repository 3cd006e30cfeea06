package dev.protorad.server.adapters;

import static dev.protorad.server.adapters.AdapterStoreTest.BASE;
import static dev.protorad.server.adapters.AdapterStoreTest.adapter;
import static dev.protorad.server.adapters.AdapterStoreTest.lineage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.protorad.clinical.gate.VersionGate;
import dev.protorad.server.serving.PredictionSchema;
import dev.protorad.testing.Postgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The adapter registry replicas share: records in the prediction database (PostgreSQL as deployed,
 * H2 as embedded), files content-addressed on one volume. Two stores stand for two replicas: each
 * has its own connections, as two processes would.
 */
class SharedAdapterRegistryTest {

  @TempDir Path dir;

  private static DataSource postgres() {
    DataSource db = Postgres.newDatabase();
    PredictionSchema.migrate(db, Optional.empty());
    return db;
  }

  private static DataSource h2() {
    JdbcDataSource db = new JdbcDataSource();
    db.setURL("jdbc:h2:mem:registry-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    PredictionSchema.migrate(db, Optional.empty());
    return db;
  }

  private AdapterStore open(DataSource db) throws Exception {
    return AdapterStore.openShared(dir, BASE, "fp-1", db, Clock.systemUTC());
  }

  @Test
  void concurrentRegistrations_onTwoReplicas_getEachNumberOnce() throws Exception {
    DataSource db = postgres();
    AdapterStore a = open(db);
    AdapterStore b = open(db);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Future<AdapterVersion>> saves = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      AdapterStore store = i % 2 == 0 ? a : b;
      long seed = i;
      saves.add(pool.submit(() -> store.register("chest-ct", adapter(seed), lineage())));
    }
    List<String> refs = new ArrayList<>();
    for (Future<AdapterVersion> f : saves) {
      AdapterVersion v = f.get();
      refs.add(v.ref());
      for (AdapterStore replica : List.of(a, b)) {
        AdapterVersion seen = replica.get(AdapterRef.parse(v.ref()));
        assertThat(seen.metadata().contentHash()).isEqualTo(v.metadata().contentHash());
        assertThat(AdapterStore.contentHash(seen.dir())).isEqualTo(v.metadata().contentHash());
      }
    }
    pool.shutdown();

    assertThat(refs)
        .containsExactlyInAnyOrder(
            "chest-ct@1",
            "chest-ct@2",
            "chest-ct@3",
            "chest-ct@4",
            "chest-ct@5",
            "chest-ct@6",
            "chest-ct@7",
            "chest-ct@8");
    assertThat(a.list(Optional.empty(), true)).hasSize(8);
    assertThat(dir.resolve("chest-ct")).doesNotExist();
    try (Stream<Path> blobs = Files.list(dir.resolve(DatabaseRecords.BLOBS))) {
      assertThat(blobs.map(p -> p.getFileName().toString()))
          .hasSize(8)
          .allMatch(n -> n.matches("[0-9a-f]{64}"));
    }
  }

  @Test
  void aliasMovesAndArchiving_onOneReplica_areWhatTheOtherSees() throws Exception {
    DataSource db = postgres();
    AdapterStore a = open(db);
    AdapterStore b = open(db);
    a.register("chest-ct", adapter(1), lineage());
    a.register("chest-ct", adapter(2), lineage());

    assertThat(a.setAlias("chest-ct", "production", 1)).isZero();
    assertThat(b.get(AdapterRef.parse("chest-ct@production")).metadata().version()).isEqualTo(1);
    assertThat(b.get(AdapterRef.parse("chest-ct")).metadata().version()).isEqualTo(1);
    assertThat(b.setAlias("chest-ct", "production", 2)).isEqualTo(1);
    assertThat(a.get(AdapterRef.parse("chest-ct@production")).aliases())
        .containsExactly("production");

    assertThatThrownBy(() -> a.archive(AdapterRef.of("chest-ct", 2)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("aliased as production");
    assertThatThrownBy(() -> a.setAlias("chest-ct", "staging", 7))
        .isInstanceOf(NoSuchElementException.class);
    b.archive(AdapterRef.of("chest-ct", 1));
    assertThatThrownBy(() -> a.setAlias("chest-ct", "staging", 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("archived");
    assertThat(a.list(Optional.of("chest-ct"), false))
        .extracting(AdapterVersion::ref)
        .containsExactly("chest-ct@2");
    assertThat(a.list(Optional.of("chest-ct"), true).get(0).archived()).isTrue();
  }

  @Test
  void aServerRoleWithOnlyTheGrantedPrivileges_registersMovesAndArchives() throws Exception {
    DataSource owner = Postgres.newDatabase();
    String role = "registry_" + UUID.randomUUID().toString().substring(0, 8);
    DataSource server = Postgres.as(owner, role);
    PredictionSchema.migrate(owner, Optional.of(role));
    AdapterStore store = open(server);

    store.register("chest-ct", adapter(1), lineage());
    store.register("chest-ct", adapter(2), lineage());
    store.setAlias("chest-ct", "production", 2);
    store.archive(AdapterRef.of("chest-ct", 1));

    assertThat(store.get(AdapterRef.parse("chest-ct")).ref()).isEqualTo("chest-ct@2");
  }

  @Test
  void theSameFiles_registeredTwice_shareOneBlob_withTheirOwnMetadata() throws Exception {
    AdapterStore store = open(h2());

    AdapterVersion v1 = store.register("chest-ct", adapter(1), lineage());
    AdapterVersion v2 = store.register("chest-ct", adapter(1), lineage());

    assertThat(v2.dir()).isEqualTo(v1.dir());
    assertThat(v1.dir().getFileName().toString()).isEqualTo(v1.metadata().contentHash());
    assertThat(v1.dir().resolve(AdapterStore.METADATA_FILE)).doesNotExist();
    assertThat(AdapterStore.fromJson(v2.metadataJson()).version()).isEqualTo(2);
    assertThat(store.load(AdapterRef.parse("chest-ct@2")).parameters())
        .isEqualTo(adapter(1).parameters());
  }

  @Test
  void seed_registersTheVersionsAModelShips_underTheirNumbers_once() throws Exception {
    Path shipped = Path.of("..", "models", "demo-base", "adapters");
    DataSource db = h2();
    AdapterStore store = open(db);

    assertThat(store.seed(shipped)).isEqualTo(7);
    assertThat(open(db).seed(shipped)).isZero();

    AdapterVersion v7 = store.get(AdapterRef.parse("protocol@7"));
    assertThat(v7.metadataJson())
        .isEqualTo(
            Files.readString(shipped.resolve("protocol/7").resolve(AdapterStore.METADATA_FILE)));
    assertThat(AdapterStore.contentHash(v7.dir())).isEqualTo(v7.metadata().contentHash());
    assertThat(VersionGate.read(v7.dir(), v7.metadataJson())).isPresent();
    assertThat(store.list(Optional.of("protocol"), false)).hasSize(7);
  }

  @Test
  void opening_removesOnlyStagingThatIsADayOld() throws Exception {
    Path blobs = Files.createDirectories(dir.resolve(DatabaseRecords.BLOBS));
    Path live = Files.createDirectory(blobs.resolve(AdapterStore.TEMP_PREFIX + "live"));
    Path stale = Files.createDirectory(blobs.resolve(AdapterStore.TEMP_PREFIX + "stale"));
    Files.setLastModifiedTime(
        stale,
        FileTime.from(
            Instant.now().minus(DatabaseRecords.STALE_STAGING).minus(Duration.ofHours(1))));

    open(h2());

    assertThat(live).exists();
    assertThat(stale).doesNotExist();
  }
}
