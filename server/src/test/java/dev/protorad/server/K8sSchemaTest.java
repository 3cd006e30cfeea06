package dev.protorad.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every manifest under {@code k8s/} binds to the Kubernetes API's own types (fabric8's model of the
 * API schema) with no field left over, so a misspelt or misplaced field fails the build rather than
 * {@code kubectl apply}. Kustomizations and the PrometheusRule (a custom resource) have no type
 * here and are checked by {@link K8sManifestsTest} and the monitoring test instead.
 */
class K8sSchemaTest {

  private static final Path K8S = Path.of("..", "k8s").toAbsolutePath().normalize();

  /** YAML lets a quantity be a number (`nvidia.com/gpu: 1`), as kubectl does. */
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .registerModule(
              new SimpleModule()
                  .addDeserializer(
                      Quantity.class,
                      new JsonDeserializer<Quantity>() {
                        @Override
                        public Quantity deserialize(JsonParser p, DeserializationContext ctxt)
                            throws IOException {
                          return new Quantity(p.getValueAsString());
                        }
                      }));

  private static final Map<String, Class<?>> TYPES =
      Map.of(
          "Deployment", Deployment.class,
          "StatefulSet", StatefulSet.class,
          "Service", Service.class,
          "PersistentVolumeClaim", PersistentVolumeClaim.class,
          "ServiceAccount", ServiceAccount.class,
          "PodDisruptionBudget", PodDisruptionBudget.class,
          "HorizontalPodAutoscaler", HorizontalPodAutoscaler.class,
          "NetworkPolicy", NetworkPolicy.class);

  @Test
  void everyManifest_bindsToItsApiType_withNoUnknownField() throws Exception {
    List<String> checked = new ArrayList<>();
    List<String> unknown = new ArrayList<>();
    for (Path file : K8sManifestsTest.yamlFiles()) {
      for (Map<String, Object> doc : K8sManifestsTest.documents(file)) {
        if (!(doc.get("kind") instanceof String kind) || !TYPES.containsKey(kind)) {
          continue;
        }
        Class<?> type = TYPES.get(kind);
        Object bound = JSON.convertValue(doc, type);
        leftovers(bound, K8S.relativize(file) + ":" + doc.get("kind"), unknown);
        checked.add(K8S.relativize(file) + ":" + doc.get("kind"));
      }
    }
    assertThat(checked).hasSizeGreaterThanOrEqualTo(12);
    assertThat(unknown).as("fields the Kubernetes API does not have").isEmpty();
  }

  @Test
  void aMisspeltField_isCaught() throws Exception {
    Map<String, Object> doc = K8sManifestsTest.documents(K8S.resolve("base/training.yaml")).get(0);
    @SuppressWarnings("unchecked")
    Map<String, Object> container =
        ((List<Map<String, Object>>)
                ((Map<String, Object>)
                        ((Map<String, Object>)
                                ((Map<String, Object>) doc.get("spec")).get("template"))
                            .get("spec"))
                    .get("containers"))
            .get(0);
    container.put("imagePullPolcy", "Always");
    List<String> unknown = new ArrayList<>();

    leftovers(JSON.convertValue(doc, Deployment.class), "training", unknown);

    assertThat(unknown).containsExactly("training.spec.template.spec.containers[0].imagePullPolcy");
  }

  /** Adds the path of every field the binding kept aside as unknown. */
  private static void leftovers(Object node, String path, List<String> out)
      throws InvocationTargetException, IllegalAccessException {
    if (node instanceof List<?> list) {
      for (int i = 0; i < list.size(); i++) {
        leftovers(list.get(i), path + "[" + i + "]", out);
      }
      return;
    }
    if (node instanceof Map<?, ?> map) {
      for (var e : map.entrySet()) {
        leftovers(e.getValue(), path + "." + e.getKey(), out);
      }
      return;
    }
    if (node == null || !node.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
      return;
    }
    for (Method m : node.getClass().getMethods()) {
      if (m.getParameterCount() != 0
          || Modifier.isStatic(m.getModifiers())
          || !m.getName().startsWith("get")
          || m.getName().equals("getClass")) {
        continue;
      }
      Object value = m.invoke(node);
      if (m.getName().equals("getAdditionalProperties")) {
        ((Map<?, ?>) value).keySet().forEach(k -> out.add(path + "." + k));
      } else {
        leftovers(value, path + "." + field(m.getName()), out);
      }
    }
  }

  private static String field(String getter) {
    return Character.toLowerCase(getter.charAt(3)) + getter.substring(4);
  }
}
