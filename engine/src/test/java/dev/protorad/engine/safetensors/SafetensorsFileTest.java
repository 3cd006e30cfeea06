package dev.protorad.engine.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
  @TempDir Path dir;

  @Test
  void writeThenRead_roundTripsEveryDtype() throws Exception {
    float[] values = {1.0f, -2.5f, 0.1f, 65504f, 3.140625f, 0f};
    Path file = dir.resolve("all.safetensors");
    SafetensorsWriter.create()
        .metadata("format", "pt")
        .addFloats("f32", DType.F32, new long[] {2, 3}, values)
        .addFloats("f16", DType.F16, new long[] {6}, values)
        .addFloats("bf16", DType.BF16, new long[] {3, 2}, values)
        .addBytes("u8", DType.U8, new long[] {3}, new byte[] {1, (byte) 200, 3})
        .addBytes("i64", DType.I64, new long[] {1}, longBytes(-7))
        .write(file);

    SafetensorsFile f = SafetensorsFile.open(file);

    assertThat(f.metadata()).containsEntry("format", "pt");
    assertThat(f.names()).containsExactly("f32", "f16", "bf16", "u8", "i64");
    assertThat(f.floats("f32")).containsExactly(values);
    assertThat(f.floats("f16")).containsExactly(1.0f, -2.5f, 0.099975586f, 65504f, 3.140625f, 0f);
    assertThat(f.floats("bf16"))
        .containsExactly(1.0f, -2.5f, 0.10009765625f, 65536f, 3.140625f, 0f);
    assertThat(f.info("bf16").shape()).containsExactly(3, 2);
    assertThat(f.longs("u8")).containsExactly(1, 200, 3);
    assertThat(f.longs("i64")).containsExactly(-7);
    assertThat(f.float16("f32")[0]).isEqualTo((short) 0x3C00);
  }

  @Test
  void floatReader_convertsRangesLikeFloats() throws Exception {
    float[] values = new float[1000];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) Math.sin(i) * 3;
    }
    Path file = dir.resolve("r.safetensors");
    SafetensorsWriter.create()
        .addFloats("f16", DType.F16, new long[] {1000}, values)
        .addFloats("bf16", DType.BF16, new long[] {1000}, values)
        .addFloats("f32", DType.F32, new long[] {1000}, values)
        .write(file);
    SafetensorsFile f = SafetensorsFile.open(file);

    for (String name : new String[] {"f16", "bf16", "f32"}) {
      float[] dst = new float[110];
      f.floatReader(name).read(500, dst, 10, 100);
      assertThat(Arrays.copyOfRange(dst, 10, 110))
          .containsExactly(Arrays.copyOfRange(f.floats(name), 500, 600));
    }
  }

  @Test
  void header_isPaddedToEightBytes() throws Exception {
    Path file = dir.resolve("p.safetensors");
    SafetensorsWriter.create()
        .addFloats("x", DType.F32, new long[] {1}, new float[] {1})
        .write(file);

    long headerLength =
        ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();

    assertThat(headerLength % 8).isZero();
  }

  @Test
  void open_missingFile_namesFile() {
    Path missing = dir.resolve("none.safetensors");
    assertThatThrownBy(() -> SafetensorsFile.open(missing))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("none.safetensors")
        .hasMessageContaining("file not found");
  }

  @Test
  void open_truncatedData_namesTensor() throws Exception {
    Path file = good();
    byte[] all = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(all, all.length - 3));

    assertThatThrownBy(() -> SafetensorsFile.open(file))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("tensor b")
        .hasMessageContaining("truncated");
  }

  @Test
  void open_fileShorterThanLengthPrefix_isTruncated() throws Exception {
    Path file = dir.resolve("short.safetensors");
    Files.write(file, new byte[] {1, 2, 3});

    assertThatThrownBy(() -> SafetensorsFile.open(file))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("truncated: 3 bytes");
  }

  @Test
  void open_headerLengthBeyondFile_isRefused() throws Exception {
    Path file = raw("{}", 1000);

    assertThatThrownBy(() -> SafetensorsFile.open(file))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("header length 1000 beyond");
  }

  @Test
  void open_hugeHeaderLength_isRefusedWithoutAllocating() throws Exception {
    Path file = raw("{}", Long.MAX_VALUE);

    assertThatThrownBy(() -> SafetensorsFile.open(file))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("header length");
  }

  @Test
  void open_headerNotJson_isRefused() throws Exception {
    Path file = raw("this is not json", -1);

    assertThatThrownBy(() -> SafetensorsFile.open(file))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("header is not JSON");
  }

  @Test
  void open_overlappingOffsets_areRefused() throws Exception {
    Path file =
        raw(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
            -1,
            12);

    assertThatThrownBy(() -> SafetensorsFile.open(file))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("tensor b")
        .hasMessageContaining("overlap tensor a");
  }

  @Test
  void open_duplicateTensorName_isRefused() throws Exception {
    Path file =
        raw(
            "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                + "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
            -1,
            2);

    assertThatThrownBy(() -> SafetensorsFile.open(file))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("header is not JSON")
        .hasMessageContaining("Duplicate field 'a'");
  }

  @Test
  void open_sizeNotShapeTimesDtype_isRefused() throws Exception {
    Path file = raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", -1, 8);

    assertThatThrownBy(() -> SafetensorsFile.open(file))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("tensor a")
        .hasMessageContaining("needs 12");
  }

  @Test
  void open_unsupportedDtype_isRefused() throws Exception {
    Path file = raw("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", -1, 1);

    assertThatThrownBy(() -> SafetensorsFile.open(file))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("unsupported dtype F8_E4M3");
  }

  @Test
  void floats_ofIntegerTensor_isRefused() throws Exception {
    Path file = dir.resolve("i.safetensors");
    SafetensorsWriter.create().addBytes("ids", DType.I64, new long[] {1}, longBytes(3)).write(file);

    assertThatThrownBy(() -> SafetensorsFile.open(file).floats("ids"))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("tensor ids")
        .hasMessageContaining("unsupported dtype I64");
  }

  @Test
  void finiteFloats_nan_namesElement() throws Exception {
    Path file = dir.resolve("nan.safetensors");
    SafetensorsWriter.create()
        .addFloats("w", DType.F16, new long[] {3}, new float[] {1, Float.NaN, 2})
        .write(file);

    assertThatThrownBy(() -> SafetensorsFile.open(file).finiteFloats("w"))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("tensor w")
        .hasMessageContaining("element 1");
  }

  @Test
  void requireShape_mismatch_namesBothShapes() throws Exception {
    SafetensorsFile f = SafetensorsFile.open(good());

    assertThatThrownBy(() -> f.requireShape("a", 3, 2))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("shape [2, 3] (expected: [3, 2])");
  }

  @Test
  void buffer_isMemoryMappedAndLittleEndian() throws Exception {
    SafetensorsFile f = SafetensorsFile.open(good());

    ByteBuffer b = f.buffer("a");

    assertThat(b).isInstanceOf(java.nio.MappedByteBuffer.class);
    assertThat(b.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
    assertThat(b.getFloat(4)).isEqualTo(2f);
  }

  @Test
  void open_fileLargerThan2GiB_mapsEachTensorOnItsOwn() throws Exception {
    long big = (1L << 31) + 52;
    String header =
        "{\"big\":{\"dtype\":\"U8\",\"shape\":["
            + big
            + "],\"data_offsets\":[0,"
            + big
            + "]},\"tail\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":["
            + big
            + ","
            + (big + 8)
            + "]}}";
    Path file = raw(header, -1);
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(8 + h.length + big + 8); // sparse: no 2 GiB written
      f.seek(8 + h.length + big);
      f.write(
          ByteBuffer.allocate(8)
              .order(ByteOrder.LITTLE_ENDIAN)
              .putFloat(1.5f)
              .putFloat(-3f)
              .array());
    }

    SafetensorsFile st = SafetensorsFile.open(file);

    assertThat(st.floats("tail")).containsExactly(1.5f, -3f);
    assertThat(st.window("big", big - 16, 16).get(15)).isZero();
    assertThatThrownBy(() -> st.buffer("big"))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("larger than 2 GiB");
    assertThatThrownBy(() -> st.bytes("big"))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("tensor big");
  }

  private Path good() throws Exception {
    Path file = dir.resolve("good.safetensors");
    SafetensorsWriter.create()
        .addFloats("a", DType.F32, new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6})
        .addFloats("b", DType.F32, new long[] {2}, new float[] {7, 8})
        .write(file);
    return file;
  }

  private Path raw(String header, long declaredLength) throws Exception {
    return raw(header, declaredLength, 0);
  }

  private Path raw(String header, long declaredLength, int dataBytes) throws Exception {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(declaredLength < 0 ? h.length : declaredLength).put(h);
    Path file = dir.resolve("raw.safetensors");
    Files.write(file, b.array());
    return file;
  }

  private static byte[] longBytes(long v) {
    return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
  }
}
