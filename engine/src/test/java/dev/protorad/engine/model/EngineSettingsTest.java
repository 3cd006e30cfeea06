package dev.protorad.engine.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.pytorch.jni.JniUtils;
import org.junit.jupiter.api.Test;

class EngineSettingsTest {

  @Test
  void applyDefaults_runsPyTorchWithTheConfiguredIntraOpThreads() {
    try (LlamaModel model = LlamaModel.builder(TinyWeights.create(1)).preferGpu(false).build()) {
      int configured = Integer.parseInt(System.getProperty(EngineSettings.NUM_THREADS));

      assertThat(JniUtils.getNumThreads()).isEqualTo(configured);
      assertThat(model.memory().device()).isEqualTo("cpu()");
    }
  }

  @Test
  void applyDefaults_keepsAValueSetOnTheCommandLine() {
    String before = System.getProperty(EngineSettings.NUM_THREADS);
    EngineSettings.applyDefaults();

    assertThat(System.getProperty(EngineSettings.NUM_THREADS)).isNotNull();
    if (before != null) {
      assertThat(System.getProperty(EngineSettings.NUM_THREADS)).isEqualTo(before);
    }
  }
}
