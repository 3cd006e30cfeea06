package dev.protorad.server.serving;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import dev.protorad.clinical.gate.VersionGate;
import dev.protorad.engine.model.AdapterHandle;
import dev.protorad.engine.model.LlamaModel;
import dev.protorad.engine.model.PromptTemplate;
import dev.protorad.server.adapters.AdapterRef;
import dev.protorad.server.adapters.AdapterStore;
import dev.protorad.server.adapters.AdapterVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.NoSuchElementException;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Resolves adapter references against the {@link AdapterStore} and keeps loaded versions in a
 * Caffeine cache bounded by the bytes their tensors take on the device. Aliases are resolved on
 * every request, so an alias move takes effect for the next request while requests in flight keep
 * the version they resolved; versions are immutable, so a cached version never goes stale. An empty
 * reference means the server's default: {@code <default name>@production} when it exists, else the
 * bare base model.
 */
public final class StoreAdapterResolver implements AdapterResolver {

  /** Device bytes of loaded adapters kept unless configured. */
  public static final long DEFAULT_CACHE_BYTES = 512L << 20;

  /** Review gates (with their lexical models, about 8 MB each) kept in memory. */
  private static final int MAX_GATES = 16;

  private final AdapterStore store;
  private final LlamaModel model;
  private final String defaultName;
  private final Cache<String, AdapterHandle> loaded;
  private final Cache<String, Optional<VersionGate>> gates =
      Caffeine.newBuilder().maximumSize(MAX_GATES).build();

  private StoreAdapterResolver(
      AdapterStore store, LlamaModel model, String defaultName, long cacheBytes) {
    this.store = store;
    this.model = model;
    this.defaultName = defaultName;
    this.loaded =
        Caffeine.newBuilder()
            .maximumWeight(cacheBytes)
            .recordStats()
            .weigher(
                (String ref, AdapterHandle h) -> (int) Math.min(Integer.MAX_VALUE, h.deviceBytes()))
            .removalListener(
                (@Nullable String ref, @Nullable AdapterHandle h, RemovalCause cause) -> {
                  if (h != null) {
                    h.close();
                  }
                })
            .build();
  }

  /** A resolver over {@code store}, loading adapters into {@code model}. */
  public static StoreAdapterResolver create(
      AdapterStore store, LlamaModel model, String defaultName, long cacheBytes) {
    requireNonNull(store, "store");
    requireNonNull(model, "model");
    requireNonNull(defaultName, "defaultName");
    if (cacheBytes < 1) {
      throw new IllegalArgumentException("cacheBytes: " + cacheBytes + " (expected: >= 1)");
    }
    return new StoreAdapterResolver(store, model, defaultName, cacheBytes);
  }

  @Override
  public ResolvedAdapter resolve(String ref) {
    requireNonNull(ref, "ref");
    return ref.isEmpty() ? resolveDefault() : resolved(versionOf(AdapterRef.parse(ref)));
  }

  /** Adapters currently loaded on the device. */
  public long loadedCount() {
    return loaded.estimatedSize();
  }

  /** Hits, misses, loads and evictions of the adapter cache since start. */
  public CacheStats cacheStats() {
    return loaded.stats();
  }

  private ResolvedAdapter resolveDefault() {
    AdapterVersion version;
    try {
      version = versionOf(new AdapterRef(defaultName, 0, "production"));
    } catch (NoSuchElementException e) {
      return ResolvedAdapter.BASE;
    }
    return resolved(version);
  }

  private ResolvedAdapter resolved(AdapterVersion version) {
    PromptTemplate template;
    try {
      template = PromptTemplate.select(null, version.metadata().promptTemplateVersion(), false);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("adapter " + version.ref() + ": " + e.getMessage(), e);
    }
    return new ResolvedAdapter(
        version.ref(),
        handle(version),
        template,
        gates.get(version.ref(), k -> gateOf(version)).orElse(null),
        !version.aliases().isEmpty());
  }

  private AdapterVersion versionOf(AdapterRef ref) {
    AdapterVersion version = store.get(ref);
    if (version.archived()) {
      throw new NoSuchElementException("adapter version archived: " + version.ref());
    }
    return version;
  }

  private Optional<VersionGate> gateOf(AdapterVersion version) {
    try {
      return VersionGate.read(version.dir(), version.metadataJson());
    } catch (IOException e) {
      throw new UncheckedIOException("adapter " + version.ref() + ": review gate", e);
    }
  }

  private AdapterHandle handle(AdapterVersion version) {
    return loaded.get(version.ref(), this::load);
  }

  /** Loads the adapter {@code key} names into the model (on a cache miss). */
  private AdapterHandle load(String key) {
    try {
      return model.loadAdapter(key, store.load(AdapterRef.parse(key)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
