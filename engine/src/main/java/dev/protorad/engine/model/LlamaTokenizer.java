package dev.protorad.engine.model;

import static java.util.Objects.requireNonNull;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The Llama SentencePiece tokenizer through DJL's Hugging Face tokenizer ({@code tokenizer.json}).
 *
 * <p>{@link #encode} adds BOS (id 1) as Llama does; {@code "</s>"} written in the text becomes EOS
 * (id 2). No truncation and no padding: callers check lengths against the context size.
 */
public final class LlamaTokenizer implements AutoCloseable {

  private final HuggingFaceTokenizer tokenizer;
  private final int bosId;
  private final int eosId;

  private LlamaTokenizer(HuggingFaceTokenizer tokenizer) {
    this.tokenizer = tokenizer;
    this.bosId = (int) tokenizer.encode("a").getIds()[0];
    long[] eos = tokenizer.encode("a</s>", false, false).getIds();
    this.eosId = (int) eos[eos.length - 1];
  }

  /** Loads {@code tokenizer.json}. */
  public static LlamaTokenizer load(Path tokenizerJson) throws IOException {
    requireNonNull(tokenizerJson, "tokenizerJson");
    HuggingFaceTokenizer t =
        HuggingFaceTokenizer.newInstance(
            tokenizerJson,
            Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false"));
    return new LlamaTokenizer(t);
  }

  /** Token ids of {@code text}, starting with BOS. */
  public int[] encode(String text) {
    requireNonNull(text, "text");
    return toInts(tokenizer.encode(text));
  }

  /** Text of {@code ids}, special tokens removed. */
  public String decode(int[] ids) {
    long[] longs = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      longs[i] = ids[i];
    }
    return tokenizer.decode(longs, true);
  }

  /** Beginning-of-sequence id (1 for Llama). */
  public int bosId() {
    return bosId;
  }

  /** End-of-sequence id (2 for Llama). */
  public int eosId() {
    return eosId;
  }

  @Override
  public void close() {
    tokenizer.close();
  }

  private static int[] toInts(Encoding e) {
    long[] ids = e.getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = (int) ids[i];
    }
    return out;
  }
}
