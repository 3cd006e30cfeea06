package dev.protorad.engine.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LabelTrieTest {

  private static final List<int[]> LABELS =
      List.of(
          new int[] {5, 6, 7, 2},
          new int[] {5, 6, 8, 2},
          new int[] {5, 9, 2},
          new int[] {4, 2},
          new int[] {5, 6, 7, 2});

  @Test
  void sharedPrefixesAreOneNode_parentsComeFirst_andEachLabelEndsOnItsLeaf() {
    LabelTrie trie = LabelTrie.partition(LABELS, Integer.MAX_VALUE).get(0);

    // 5, 6, 7, 2 | 8, 2 | 9, 2 | 4, 2; the duplicate label adds nothing.
    assertThat(trie.size()).isEqualTo(10);
    int[] labels = trie.labels();
    assertThat(labels).containsExactlyInAnyOrder(0, 1, 2, 3, 4);
    for (int l = 0; l < labels.length; l++) {
      int[] tokens = LABELS.get(labels[l]);
      int node = trie.leaf(l);
      for (int d = tokens.length - 1; d >= 0; d--) {
        assertThat(trie.token(node)).isEqualTo(tokens[d]);
        assertThat(trie.depth(node)).isEqualTo(d);
        int parent = trie.parent(node);
        assertThat(parent).isLessThan(node);
        node = parent;
      }
      assertThat(node).isEqualTo(-1);
    }
  }

  @Test
  void ancestors_areEachNodesAncestorsAndItself_only() {
    LabelTrie trie = LabelTrie.partition(LABELS, Integer.MAX_VALUE).get(0);
    int[][] ancestors = trie.ancestors();

    for (int q = 0; q < trie.size(); q++) {
      List<Integer> chain = new ArrayList<>();
      for (int k = q; k >= 0; k = trie.parent(k)) {
        chain.add(k);
      }
      for (int k = 0; k < trie.size(); k++) {
        int key = k;
        boolean sees = java.util.Arrays.stream(ancestors[q]).anyMatch(a -> a == key);
        assertThat(sees).as("%d sees %d", q, k).isEqualTo(chain.contains(k));
      }
    }
  }

  @Test
  void partition_keepsEachTrieWithinItsBound_andEveryLabelOnce() {
    List<LabelTrie> tries = LabelTrie.partition(LABELS, 5);

    List<Integer> seen = new ArrayList<>();
    for (LabelTrie trie : tries) {
      assertThat(trie.size()).isLessThanOrEqualTo(5);
      for (int l : trie.labels()) {
        seen.add(l);
      }
    }
    assertThat(seen).containsExactlyInAnyOrder(0, 1, 2, 3, 4);
    assertThat(tries).hasSizeGreaterThan(1);
    // A label longer than the bound gets a trie of its own.
    assertThat(LabelTrie.partition(LABELS, 2)).allSatisfy(t -> assertThat(t.size()).isLessThan(5));
  }
}
