package dev.protorad.engine.safetensors;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HalfFloatsTest {

  @ParameterizedTest(name = "{0} -> F16 {1}")
  @CsvSource({
    "1.0, 3C00",
    "-2.0, C000",
    "65504.0, 7BFF",
    "65519.99, 7BFF",
    "65520.0, 7C00",
    "0.1, 2E66",
    "0.33333334, 3555",
    "6.1035156E-5, 0400",
    "5.9604645E-8, 0001",
    "2.9802322E-8, 0000",
    "1.00048828125, 3C00",
    "1.00146484375, 3C02",
    "0.0, 0000",
    "-0.0, 8000",
    "Infinity, 7C00",
    "-Infinity, FC00"
  })
  void floatToF16_roundsToNearestEven(float value, String hex) {
    assertThat(HalfFloats.floatToF16(value)).isEqualTo((short) Integer.parseInt(hex, 16));
  }

  @ParameterizedTest(name = "F16 {0} -> {1}")
  @CsvSource({
    "3C00, 1.0",
    "C000, -2.0",
    "7BFF, 65504.0",
    "0001, 5.9604645E-8",
    "03FF, 6.097555E-5",
    "0400, 6.1035156E-5",
    "3555, 0.33325195",
    "7C00, Infinity",
    "FC00, -Infinity"
  })
  void f16ToFloat_isExact(String hex, float value) {
    assertThat(HalfFloats.f16ToFloat((short) Integer.parseInt(hex, 16))).isEqualTo(value);
  }

  @ParameterizedTest(name = "{0} -> BF16 {1}")
  @CsvSource({
    "1.0, 3F80",
    "-2.0, C000",
    "3.140625, 4049",
    "0.1, 3DCD",
    "1.00390625, 3F80",
    "1.01171875, 3F82",
    "Infinity, 7F80"
  })
  void floatToBf16_roundsToNearestEven(float value, String hex) {
    assertThat(HalfFloats.floatToBf16(value)).isEqualTo((short) Integer.parseInt(hex, 16));
  }

  @ParameterizedTest(name = "BF16 {0} -> {1}")
  @CsvSource({"3F80, 1.0", "4049, 3.140625", "C000, -2.0", "3DCD, 0.10009765625"})
  void bf16ToFloat_isExact(String hex, float value) {
    assertThat(HalfFloats.bf16ToFloat((short) Integer.parseInt(hex, 16))).isEqualTo(value);
  }

  @org.junit.jupiter.api.Test
  void f16_everyFiniteValue_roundTrips() {
    for (int h = 0; h < 0x10000; h++) {
      short bits = (short) h;
      if (HalfFloats.isFiniteF16(bits)) {
        assertThat(HalfFloats.floatToF16(HalfFloats.f16ToFloat(bits))).isEqualTo(bits);
      }
    }
  }

  @org.junit.jupiter.api.Test
  void nan_staysNan() {
    assertThat(HalfFloats.isFiniteF16(HalfFloats.floatToF16(Float.NaN))).isFalse();
    assertThat(Float.isNaN(HalfFloats.f16ToFloat(HalfFloats.floatToF16(Float.NaN)))).isTrue();
    assertThat(Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.NaN)))).isTrue();
  }
}
