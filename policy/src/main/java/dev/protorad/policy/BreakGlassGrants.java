package dev.protorad.policy;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where {@link BreakGlass} keeps its grants: in this process ({@link #inMemory()}), or in a store
 * every replica reads, so that a grant opened through one replica covers its holder's calls on all
 * of them and a revocation ends it everywhere.
 */
public interface BreakGlassGrants {

  /** Keeps {@code grant}; grants that have expired by its opening may be forgotten. */
  void add(BreakGlassGrant grant);

  /** The grants in force at {@code now}, in no particular order. */
  List<BreakGlassGrant> active(Instant now);

  /** Ends the grant {@code grantId}; returns whether it was kept. */
  boolean remove(String grantId);

  /** Grants in this process only: a replica sees only what it opened. */
  static BreakGlassGrants inMemory() {
    Map<String, BreakGlassGrant> grants = new ConcurrentHashMap<>();
    return new BreakGlassGrants() {
      @Override
      public void add(BreakGlassGrant grant) {
        grants.values().removeIf(g -> !grant.openedAt().isBefore(g.expiresAt()));
        grants.put(grant.id(), grant);
      }

      @Override
      public List<BreakGlassGrant> active(Instant now) {
        return grants.values().stream().filter(g -> g.isActiveAt(now)).toList();
      }

      @Override
      public boolean remove(String grantId) {
        return grants.remove(requireNonNull(grantId, "grantId")) != null;
      }
    };
  }
}
