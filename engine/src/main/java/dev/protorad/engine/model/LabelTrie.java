package dev.protorad.engine.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The token sequences of a list of labels as a trie, each shared prefix once: the layout of one
 * packed continuation pass ({@link Packing#TRIE}).
 *
 * <p>Node {@code n} holds one label token; its parent is the node before it in its labels ({@code
 * -1} for a first token, which the prompt's last position predicts), and a parent always comes
 * before its children, so a pass in node order reads each node's prefix before the node. In the
 * pass, node {@code n} sits at rotary position {@code promptLength + depth(n)} and attends to the
 * prompt and to its own ancestors only (its {@link #ancestors}): what it sees is exactly what it
 * would see as a token of its label after the prompt, so the packed pass gives each label the
 * log-likelihood a padded row of that label gives.
 */
final class LabelTrie {

  private final int[] tokens;
  private final int[] parents;
  private final int[] depths;
  private final int[] leaves; // node of each label's last token, per label of this trie
  private final int[] labels; // index of each label of this trie in the caller's list
  private final boolean[] hasChildren;

  private LabelTrie(List<int[]> sequences, int[] labels) {
    this.labels = labels;
    List<int[]> nodes = new ArrayList<>(); // {token, parent, depth}
    Map<Long, Integer> children = new HashMap<>();
    leaves = new int[labels.length];
    for (int l = 0; l < labels.length; l++) {
      int node = -1;
      int[] sequence = sequences.get(labels[l]);
      for (int d = 0; d < sequence.length; d++) {
        long key = ((long) node << 32) | (sequence[d] & 0xffffffffL);
        Integer child = children.get(key);
        if (child == null) {
          child = nodes.size();
          nodes.add(new int[] {sequence[d], node, d});
          children.put(key, child);
        }
        node = child;
      }
      leaves[l] = node;
    }
    int n = nodes.size();
    tokens = new int[n];
    parents = new int[n];
    depths = new int[n];
    hasChildren = new boolean[n];
    for (int i = 0; i < n; i++) {
      int[] node = nodes.get(i);
      tokens[i] = node[0];
      parents[i] = node[1];
      depths[i] = node[2];
      if (node[1] >= 0) {
        hasChildren[node[1]] = true;
      }
    }
  }

  /**
   * Tries over {@code sequences} (none empty) of at most {@code maxNodes} nodes each (a single
   * label longer than that gets a trie of its own). Labels are taken in token order, so labels that
   * share a prefix land in the same trie as far as the bound allows.
   */
  static List<LabelTrie> partition(List<int[]> sequences, int maxNodes) {
    Integer[] order = new Integer[sequences.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Arrays.compare(sequences.get(a), sequences.get(b)));
    List<LabelTrie> out = new ArrayList<>();
    List<Integer> group = new ArrayList<>();
    int nodes = 0;
    int[] previous = new int[0];
    for (int label : order) {
      int[] sequence = sequences.get(label);
      int added = sequence.length - commonPrefix(previous, sequence);
      if (!group.isEmpty() && nodes + added > maxNodes) {
        out.add(of(sequences, group));
        group.clear();
        added = sequence.length;
        nodes = 0;
      }
      group.add(label);
      nodes += added;
      previous = sequence;
    }
    out.add(of(sequences, group));
    return out;
  }

  private static LabelTrie of(List<int[]> sequences, List<Integer> group) {
    int[] labels = new int[group.size()];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = group.get(i);
    }
    return new LabelTrie(sequences, labels);
  }

  private static int commonPrefix(int[] a, int[] b) {
    int n = Math.min(a.length, b.length);
    int i = 0;
    while (i < n && a[i] == b[i]) {
      i++;
    }
    return i;
  }

  /** Nodes: the slots of one packed row. */
  int size() {
    return tokens.length;
  }

  int token(int node) {
    return tokens[node];
  }

  /** The node before {@code node} in its labels, or {@code -1} for a first token. */
  int parent(int node) {
    return parents[node];
  }

  /** Position of {@code node} within its labels: 0 for a first token. */
  int depth(int node) {
    return depths[node];
  }

  /** Whether some label goes on after {@code node}: only such nodes need the LM head. */
  boolean hasChildren(int node) {
    return hasChildren[node];
  }

  /** Labels of this trie, as indexes into the caller's list. */
  int[] labels() {
    return labels.clone();
  }

  /** The node of the last token of this trie's {@code i}-th label. */
  int leaf(int i) {
    return leaves[i];
  }

  /** Each node's ancestors and the node itself, root first: the nodes it attends to. */
  int[][] ancestors() {
    int n = size();
    int[][] out = new int[n][];
    for (int q = 0; q < n; q++) {
      out[q] = new int[depths[q] + 1];
      for (int k = q; k >= 0; k = parents[k]) {
        out[q][depths[k]] = k;
      }
    }
    return out;
  }
}
