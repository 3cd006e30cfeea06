package dev.protorad.training.lm;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;

/**
 * A padded batch and the positions whose next token is scored.
 *
 * @param tokens rows padded with zeros to the longest row
 * @param positions flat indices {@code row * length + slot} that predict a target
 * @param targets the token expected after each position
 * @param lengths the real (unpadded) length of each row
 */
public record Batch(int[][] tokens, long[] positions, long[] targets, int[] lengths) {

  /**
   * Next-token prediction over every token of every row, targets remapped through {@code index}
   * (token id to subset index).
   */
  public static Batch causal(List<int[]> rows, Map<Integer, Integer> index) {
    int length = rows.stream().mapToInt(r -> r.length).max().orElseThrow() - 1;
    int count = rows.stream().mapToInt(r -> r.length - 1).sum();
    int[][] tokens = new int[rows.size()][length];
    long[] positions = new long[count];
    long[] targets = new long[count];
    int[] lengths = new int[rows.size()];
    int k = 0;
    for (int i = 0; i < rows.size(); i++) {
      int[] r = rows.get(i);
      lengths[i] = r.length - 1;
      System.arraycopy(r, 0, tokens[i], 0, r.length - 1);
      for (int j = 0; j < r.length - 1; j++) {
        positions[k] = (long) i * length + j;
        targets[k++] = requireNonNull(index.get(r[j + 1]), "token outside the index");
      }
    }
    return new Batch(tokens, positions, targets, lengths);
  }

  /**
   * Label-only loss: each row is a prompt followed by label tokens; only the label tokens are
   * targets (full vocabulary ids).
   *
   * @param prompts the prompt tokens of each row
   * @param labels the label tokens of each row
   */
  public static Batch labelsOnly(List<int[]> prompts, List<int[]> labels) {
    int rows = prompts.size();
    int length = 0;
    int count = 0;
    for (int i = 0; i < rows; i++) {
      length = Math.max(length, prompts.get(i).length + labels.get(i).length - 1);
      count += labels.get(i).length;
    }
    int[][] tokens = new int[rows][length];
    long[] positions = new long[count];
    long[] targets = new long[count];
    int[] lengths = new int[rows];
    int k = 0;
    for (int i = 0; i < rows; i++) {
      int[] p = prompts.get(i);
      int[] l = labels.get(i);
      lengths[i] = p.length + l.length - 1;
      System.arraycopy(p, 0, tokens[i], 0, p.length);
      System.arraycopy(l, 0, tokens[i], p.length, l.length - 1);
      for (int j = 0; j < l.length; j++) {
        positions[k] = (long) i * length + p.length - 1 + j;
        targets[k++] = l[j];
      }
    }
    return new Batch(tokens, positions, targets, lengths);
  }
}
