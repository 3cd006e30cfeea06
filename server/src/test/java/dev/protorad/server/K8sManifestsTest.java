package dev.protorad.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.protorad.policy.PolicyLoader;
import dev.protorad.server.config.AuditConfig;
import dev.protorad.server.config.ConfigLoader;
import dev.protorad.server.config.ServerConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** Every manifest under {@code k8s/} parses, and the workloads keep their required fields. */
class K8sManifestsTest {

  private static final Path K8S = Path.of("..", "k8s").toAbsolutePath().normalize();
  private static final Path BASE = K8S.resolve("base");

  @Test
  void everyYamlFile_parsesAndNamesItsKind() throws IOException {
    List<Path> files = yamlFiles();
    assertThat(files).hasSizeGreaterThanOrEqualTo(10);
    for (Path file : files) {
      for (Map<String, Object> doc : documents(file)) {
        if (isResource(file)) {
          assertThat(doc).as(file.toString()).containsKeys("apiVersion", "kind");
          assertThat(doc.get("kind")).as(file.toString()).isNotNull();
        }
      }
    }
  }

  @Test
  void kustomizations_referenceFilesThatExist() throws IOException {
    for (Path file : yamlFiles()) {
      if (!file.getFileName().toString().equals("kustomization.yaml")) {
        continue;
      }
      Map<String, Object> k = documents(file).get(0);
      for (String ref : references(k)) {
        assertThat(file.getParent().resolve(ref)).as(file + " -> " + ref).exists();
      }
    }
  }

  @Test
  void deployments_haveGrpcProbesResourcesAndLockedDownContainers() throws IOException {
    List<Map<String, Object>> deployments = new ArrayList<>();
    for (Path file : List.of(BASE.resolve("deployment.yaml"), BASE.resolve("training.yaml"))) {
      deployments.addAll(documents(file));
    }
    assertThat(deployments).hasSize(2);
    // The serving replicas are a StatefulSet for their stable names (audit writer ids).
    assertThat(deployments.get(0).get("kind")).isEqualTo("StatefulSet");
    assertThat(map(deployments.get(0), "spec")).containsEntry("serviceName", "protorad-headless");
    assertThat(deployments.get(1).get("kind")).isEqualTo("Deployment");
    for (Map<String, Object> d : deployments) {
      Map<String, Object> template = map(map(d, "spec"), "template");
      assertThat(map(map(template, "metadata"), "annotations"))
          .containsEntry("prometheus.io/scrape", "true");
      Map<String, Object> pod = map(template, "spec");
      assertThat(map(pod, "securityContext")).containsEntry("runAsNonRoot", true);
      Map<String, Object> container = list(pod, "containers").get(0);
      assertThat(container).containsKeys("image", "startupProbe");
      // gRPC speaks TLS; the probes use the plaintext health-only port.
      for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
        assertThat(map(map(container, probe), "grpc")).containsEntry("port", 8081);
      }
      assertThat(map(map(container, "resources"), "requests")).containsKeys("cpu", "memory");
      assertThat(map(container, "securityContext"))
          .containsEntry("readOnlyRootFilesystem", true)
          .containsEntry("allowPrivilegeEscalation", false);
      assertThat(pod)
          .containsEntry("serviceAccountName", "protorad")
          .containsEntry("automountServiceAccountToken", false);
      assertThat(map(map(map(container, "lifecycle"), "preStop"), "exec")).containsKey("command");
    }
  }

  @Test
  void operations_budgetScaleSpreadAndFenceTheServingReplicas() throws IOException {
    Map<String, Map<String, Object>> byKind = new java.util.HashMap<>();
    for (Map<String, Object> doc : documents(BASE.resolve("operations.yaml"))) {
      byKind.put((String) doc.get("kind"), doc);
    }
    assertThat(byKind)
        .containsOnlyKeys(
            "ServiceAccount", "PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy");
    assertThat(map(map(map(byKind.get("PodDisruptionBudget"), "spec"), "selector"), "matchLabels"))
        .containsEntry("app.kubernetes.io/name", "protorad-server");
    Map<String, Object> hpa = map(byKind.get("HorizontalPodAutoscaler"), "spec");
    assertThat(map(hpa, "scaleTargetRef"))
        .containsEntry("kind", "StatefulSet")
        .containsEntry("name", "protorad-server");
    assertThat((Integer) hpa.get("minReplicas")).isGreaterThanOrEqualTo(2);
    Map<String, Object> fence = map(byKind.get("NetworkPolicy"), "spec");
    assertThat(fence.get("policyTypes")).isEqualTo(List.of("Ingress", "Egress"));
    Map<String, Object> server =
        map(
            map(map(documents(BASE.resolve("deployment.yaml")).get(0), "spec"), "template"),
            "spec");
    assertThat(list(server, "topologySpreadConstraints"))
        .extracting(c -> c.get("topologyKey"))
        .contains("kubernetes.io/hostname", "topology.kubernetes.io/zone");
  }

  @Test
  void aPolicyEdit_reachesRunningPods_withoutRollingThem() throws IOException {
    ServerConfig config =
        ConfigLoader.withEnvironment(Map.of()).load(BASE.resolve("protorad.yaml"));
    Path policy = config.resolvedPolicyFile();
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> generators =
        (List<Map<String, Object>>)
            documents(BASE.resolve("kustomization.yaml")).get(0).get("configMapGenerator");
    Map<String, Object> policyMap =
        generators.stream()
            .filter(g -> ((List<?>) g.get("files")).contains("policy.yaml"))
            .findFirst()
            .orElseThrow();
    // A stable name: editing the policy changes no pod template, so nothing rolls.
    assertThat(map(policyMap, "options")).containsEntry("disableNameSuffixHash", true);
    assertThat(policyMap.get("files")).isEqualTo(List.of("policy.yaml"));
    for (Path file : List.of(BASE.resolve("deployment.yaml"), BASE.resolve("training.yaml"))) {
      Map<String, Object> pod = map(map(map(documents(file).get(0), "spec"), "template"), "spec");
      String volume =
          list(pod, "volumes").stream()
              .filter(v -> v.containsKey("configMap"))
              .filter(v -> map(v, "configMap").get("name").equals(policyMap.get("name")))
              .map(v -> (String) v.get("name"))
              .findFirst()
              .orElseThrow();
      // Mounted as a directory (a subPath mount is never updated) where the config points.
      assertThat(list(list(pod, "containers").get(0), "volumeMounts"))
          .anySatisfy(
              m -> {
                assertThat(m).containsEntry("name", volume).doesNotContainKey("subPath");
                assertThat(policy.getParent()).isEqualTo(Path.of((String) m.get("mountPath")));
              });
    }
  }

  @Test
  void overlays_nameTheImagesTheBuildProduces_runAsItsUser() throws IOException {
    // scripts/image.sh tags ghcr.io/protorad/protorad-server:<project version>-<cpu|cuda>.
    String pom = Files.readString(K8S.resolveSibling("pom.xml"));
    String version =
        pom.substring(pom.indexOf("<version>") + 9, pom.indexOf("</version>"))
            .replace("-SNAPSHOT", "");
    for (String flavor : List.of("cpu", "cuda")) {
      String overlay = flavor.equals("cpu") ? "cpu" : "gpu";
      @SuppressWarnings("unchecked")
      Map<String, Object> image =
          ((List<Map<String, Object>>)
                  documents(K8S.resolve("overlays/" + overlay + "/kustomization.yaml"))
                      .get(0)
                      .get("images"))
              .get(0);
      assertThat(image)
          .containsEntry("name", "ghcr.io/protorad/protorad-server")
          .containsEntry("newTag", version + "-" + flavor);
    }
    String dockerfile = Files.readString(K8S.resolveSibling("image/Dockerfile"));
    assertThat(dockerfile).contains("\nUSER 10001:10001\n");
    for (Path file : List.of(BASE.resolve("deployment.yaml"), BASE.resolve("training.yaml"))) {
      Map<String, Object> pod = map(map(map(documents(file).get(0), "spec"), "template"), "spec");
      assertThat(map(pod, "securityContext")).containsEntry("runAsUser", 10001);
    }
  }

  @Test
  void gpuOverlay_requestsOneGpuAndSuppliesLibtorch() throws IOException {
    for (String name : List.of("gpu-server.yaml", "gpu-training.yaml")) {
      Map<String, Object> patch = documents(K8S.resolve("overlays/gpu").resolve(name)).get(0);
      Map<String, Object> container =
          list(map(map(map(patch, "spec"), "template"), "spec"), "containers").get(0);
      assertThat(map(map(container, "resources"), "limits")).containsEntry("nvidia.com/gpu", 1);
      assertThat(list(container, "env"))
          .anySatisfy(e -> assertThat(e).containsEntry("name", "PYTORCH_LIBRARY_PATH"));
    }
  }

  @Test
  void baseServerConfig_loadsWithPostgresAuditAndPrometheus() {
    ServerConfig config =
        ConfigLoader.withEnvironment(Map.of()).load(BASE.resolve("protorad.yaml"));
    assertThat(config.audit().store()).isEqualTo(AuditConfig.POSTGRES);
    assertThat(config.audit().jdbcPasswordEnv()).isEqualTo("PROTORAD_DB_PASSWORD");
    assertThat(config.prometheusPort()).isEqualTo(9464);
    assertThat(config.host()).isEqualTo("0.0.0.0");
    assertThat(config.tls().enabled()).isTrue();
    assertThat(config.healthPort()).isEqualTo(8081);
    // Both databases over TLS, the server's certificate and host name verified.
    assertThat(List.of(config.audit().jdbcUrl(), config.serving().predictionsJdbcUrl()))
        .allSatisfy(
            url ->
                assertThat(url)
                    .contains("sslmode=verify-full")
                    .contains("sslrootcert=/etc/protorad-keys/db-ca.pem"));
  }

  @Test
  void basePolicy_loads() throws Exception {
    assertThat(PolicyLoader.load(BASE.resolve("policy.yaml"))).isNotNull();
  }

  private static boolean isResource(Path file) {
    Path parent = file.getParent();
    String name = file.getFileName().toString();
    return !(parent.equals(BASE) && (name.equals("protorad.yaml") || name.equals("policy.yaml")));
  }

  @SuppressWarnings("unchecked")
  private static List<String> references(Map<String, Object> kustomization) {
    List<String> refs = new ArrayList<>();
    for (Object r : (List<Object>) kustomization.getOrDefault("resources", List.of())) {
      refs.add((String) r);
    }
    for (Object p : (List<Object>) kustomization.getOrDefault("patches", List.of())) {
      refs.add((String) ((Map<String, Object>) p).get("path"));
    }
    for (Object g : (List<Object>) kustomization.getOrDefault("configMapGenerator", List.of())) {
      refs.addAll((List<String>) ((Map<String, Object>) g).get("files"));
    }
    return refs;
  }

  static List<Path> yamlFiles() throws IOException {
    try (Stream<Path> files = Files.walk(K8S)) {
      return files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
    }
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> documents(Path file) throws IOException {
    List<Map<String, Object>> out = new ArrayList<>();
    try (Reader in = Files.newBufferedReader(file)) {
      for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(in)) {
        if (doc != null) {
          out.add((Map<String, Object>) doc);
        }
      }
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Map<String, Object> parent, String key) {
    assertThat(parent).containsKey(key);
    return (Map<String, Object>) parent.get(key);
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> list(Map<String, Object> parent, String key) {
    assertThat(parent).containsKey(key);
    return (List<Map<String, Object>>) parent.get(key);
  }
}
