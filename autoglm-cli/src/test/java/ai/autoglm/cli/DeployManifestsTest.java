package ai.autoglm.cli;

import ai.autoglm.core.memory.MemoryModel;
import ai.autoglm.core.memory.TensorSpec;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.model.TransformerModel;
import ai.autoglm.core.testing.ExternalReference;
import ai.autoglm.server.AutoglmServer;
import ai.autoglm.server.config.ClusterConfig;
import ai.autoglm.server.config.ClusterConfigFile;
import ai.autoglm.server.config.ModelSpec;
import ai.autoglm.server.config.ServerConfig;
import ai.autoglm.server.config.ServerConfigFile;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * No cluster exists here, so deploy/k8s/*.yaml and deploy/Dockerfile are held to the code: the probes' paths answer
 * on a real server at the ConfigMap's port, the metric names the HPA and the adapter rules use appear in a real
 * /metrics scrape, the ConfigMap parses as our config, the memory request covers the memory model's estimate, the
 * image's build and entrypoint are the launcher's, and kubectl accepts the manifests where it exists.
 */
class DeployManifestsTest {
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    static final Path K8S = ROOT.resolve("deploy/k8s");
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final Path MODEL = ROOT.resolve("models/default/model.gguf");

    @TempDir
    Path dir;

    static Map<String, JsonNode> manifests() throws Exception {
        Map<String, JsonNode> byKind = new HashMap<>();
        try (Stream<Path> files = Files.list(K8S)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                JsonNode n = YAML.readTree(f.toFile());
                assertThat(n.has("apiVersion") && n.has("kind")).as(f + " is a Kubernetes object").isTrue();
                String key = n.get("kind").asText() + (n.at("/metadata/name").asText().equals("adapter-config") ? ":adapter" : "");
                assertThat(byKind.put(key, n)).as("one " + key).isNull();
            }
        }
        assertThat(byKind).containsKeys("Deployment", "Service", "ConfigMap", "Secret", "PodDisruptionBudget", "HorizontalPodAutoscaler", "ConfigMap:adapter");
        return byKind;
    }

    @Test
    void manifestsMatchTheServer() throws Exception {
        Map<String, JsonNode> m = manifests();
        JsonNode container = m.get("Deployment").at("/spec/template/spec/containers/0");

        // The ConfigMap is our config; the cluster section is read as such.
        Path cfgFile = dir.resolve("autoglm.yaml");
        Files.writeString(cfgFile, m.get("ConfigMap").at("/data/autoglm.yaml").asText());
        ServerConfig fromMap = ServerConfigFile.read(cfgFile);
        ClusterConfig cluster = ClusterConfigFile.read(cfgFile);
        assertThat(cluster.shared()).as("replicas share keys and limits through Redis").isTrue();
        long termination = m.get("Deployment").at("/spec/template/spec/terminationGracePeriodSeconds").asLong();
        long preStop = container.at("/lifecycle/preStop/sleep/seconds").asLong();
        assertThat(cluster.shutdownGrace().toSeconds() + preStop).as("the drain ends before Kubernetes' SIGKILL").isLessThan(termination);
        assertThat(container.at("/ports/0/containerPort").asInt()).isEqualTo(fromMap.port());
        assertThat(fromMap.host()).isEqualTo("0.0.0.0");
        assertThat(fromMap.models().getFirst().path().toString()).startsWith(container.at("/volumeMounts/0/mountPath").asText());
        assertThat(m.get("Deployment").at("/spec/template/spec/initContainers/0/args/0").asText()).isEqualTo("pull");

        // Memory sized from the memory model for the ConfigMap's model (the bundled one), slots and context.
        ModelSpec spec = fromMap.models().getFirst();
        long estimate;
        try (LanguageModel lm = ModelLoader.load(MODEL)) {
            estimate = MemoryModel.forServing(lm.config(), TensorSpec.of(((TransformerModel) lm).weights()), spec.context(), spec.slots()).totalBytes();
        }
        long request = bytes(container.at("/resources/requests/memory").asText());
        long limit = bytes(container.at("/resources/limits/memory").asText());
        assertThat(request).as("memory request covers the estimate " + estimate).isGreaterThanOrEqualTo(estimate);
        assertThat(limit).isGreaterThanOrEqualTo(request);

        // A real server with the ConfigMap's model settings (on loopback, the bundled model, no Redis here).
        ServerConfig local = fromMap.withAddress("127.0.0.1", 0).withModels(List.of(new ModelSpec(spec.alias(), MODEL, spec.context(), spec.slots(),
                spec.keepAlive(), spec.toolParser(), null, null))).withSecurity(ai.autoglm.server.config.SecurityConfig.none());
        try (AutoglmServer server = AutoglmServer.start(local); HttpClient http = HttpClient.newHttpClient()) {
            String base = "http://127.0.0.1:" + server.port();
            for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
                JsonNode p = container.get(probe);
                assertThat(p.at("/httpGet/port").asText()).isEqualTo(container.at("/ports/0/name").asText());
                String path = p.at("/httpGet/path").asText();
                int status = 0;
                for (int i = 0; i < 600 && status != 200; i++) {
                    status = http.send(HttpRequest.newBuilder(URI.create(base + path)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                    if (status != 200) Thread.sleep(50);
                }
                assertThat(status).as(probe + " " + path).isEqualTo(200);
            }
            HttpResponse<String> chat = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(chat.statusCode()).as(chat.body()).isEqualTo(200);
            String scrape = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            List<String> names = new ArrayList<>();
            for (JsonNode metric : m.get("HorizontalPodAutoscaler").at("/spec/metrics")) names.add(metric.at("/pods/metric/name").asText());
            JsonNode rules = YAML.readTree(m.get("ConfigMap:adapter").at("/data/config.yaml").asText()).get("rules");
            for (JsonNode rule : rules) {
                Matcher series = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)\\{").matcher(rule.get("seriesQuery").asText());
                assertThat(series.find()).isTrue();
                names.add(series.group(1));
                names.add(rule.at("/name/as").asText());
            }
            assertThat(names).hasSizeGreaterThanOrEqualTo(6);
            for (String name : names) assertThat(scrape).as("metric " + name + " in a real scrape").containsPattern("(?m)^" + name + "\\{");
        }
        assertThat(m.get("Service").at("/spec/ports/0/targetPort").asText()).isEqualTo("http");
        assertThat(m.get("PodDisruptionBudget").at("/spec/selector/matchLabels/app").asText())
                .isEqualTo(m.get("Deployment").at("/spec/template/metadata/labels/app").asText());
    }

    @Test
    void theImageBuildsAndStartsAsTheLauncherDoes() throws Exception {
        String dockerfile = Files.readString(ROOT.resolve("deploy/Dockerfile"));
        String launcher = Files.readString(ROOT.resolve("autoglm"));
        List<String> runs = Pattern.compile("(?m)^RUN (.*)$").matcher(dockerfile).results().map(r -> r.group(1)).toList();
        Matcher build = Pattern.compile("\\(cd \"\\$ROOT\" && (mvn [^)]*)\\)").matcher(launcher);
        assertThat(build.find()).isTrue();
        assertThat(runs).as("the image builds with the launcher's build command").contains(build.group(1));

        // ENTRYPOINT = the launcher's java line: its JVM flags, its class path layout, its main class.
        Matcher flags = Pattern.compile("AUTOGLM_JVM_FLAGS=\"([^\"]*)\"").matcher(Files.readString(ROOT.resolve("scripts/java-env.sh")));
        assertThat(flags.find()).isTrue();
        Matcher main = Pattern.compile("-cp \"\\$ROOT/autoglm-cli/target/classes:\\$ROOT/autoglm-cli/target/lib/\\*\" (\\S+)").matcher(launcher);
        assertThat(main.find()).isTrue();
        Matcher ep = Pattern.compile("(?m)^ENTRYPOINT (\\[.*])$").matcher(dockerfile);
        assertThat(ep.find()).isTrue();
        List<String> entry = new ArrayList<>();
        new ObjectMapper().readTree(ep.group(1)).forEach(n -> entry.add(n.asText()));
        List<String> expected = new ArrayList<>();
        expected.add("/opt/jre/bin/java");
        expected.addAll(List.of(flags.group(1).split(" ")));
        expected.addAll(List.of("-cp", "/opt/autoglm/classes:/opt/autoglm/lib/*", main.group(1)));
        assertThat(entry).isEqualTo(expected);
        assertThat(main.group(1)).isEqualTo(AutoglmCli.class.getName());
        assertThat(dockerfile).contains("COPY --from=build /src/autoglm-cli/target/classes /opt/autoglm/classes",
                "COPY --from=build /src/autoglm-cli/target/lib /opt/autoglm/lib");
        assertThat(dockerfile).containsPattern("(?m)^USER 10001");

        // The jlink step, run here as written (into a temp dir): the runtime it makes starts the server, which
        // loads the model, and drains and exits 0 on SIGTERM (sun.misc.Signal needs jdk.unsupported).
        String jlink = runs.stream().filter(r -> r.startsWith("jlink ")).findFirst().orElseThrow();
        Path jre = dir.resolve("jre");
        List<String> cmd = new ArrayList<>(List.of(jlink.replace("--output /opt/jre", "--output " + jre).split(" ")));
        cmd.set(0, Path.of(System.getProperty("java.home"), "bin", "jlink").toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
        List<String> serve = new ArrayList<>(entry);
        serve.set(0, jre.resolve("bin/java").toString());
        serve.set(serve.indexOf("-cp") + 1, System.getProperty("java.class.path"));
        int port = ReplicasBehindNginxTest.freePort();
        serve.addAll(List.of("serve", "--model", MODEL.toString(), "--ctx", "256", "--port", Integer.toString(port), "--home", dir.resolve("home").toString()));
        Process server = new ProcessBuilder(serve).redirectErrorStream(true).redirectOutput(dir.resolve("serve.log").toFile()).start();
        try (HttpClient http = HttpClient.newHttpClient()) {
            int status = 0;
            for (int i = 0; i < 1200 && status != 200 && server.isAlive(); i++) {
                try {
                    status = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready")).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode();
                } catch (java.io.IOException notYet) {
                    // not listening yet
                }
                if (status != 200) Thread.sleep(100);
            }
            assertThat(status).as(Files.readString(dir.resolve("serve.log"))).isEqualTo(200);
            server.destroy(); // SIGTERM
            assertThat(server.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(server.exitValue()).as(Files.readString(dir.resolve("serve.log"))).isZero();
        } finally {
            server.destroyForcibly();
        }
    }

    @Test
    void kubectlAcceptsTheManifests() throws Exception {
        Path kubectl = Path.of("/usr/bin/kubectl");
        ExternalReference.require(Files.isExecutable(kubectl), "kubectl is not installed here: the client-side dry run is skipped");
        Process p = new ProcessBuilder(kubectl.toString(), "apply", "--dry-run=client", "--validate=false", "--request-timeout=5s", "-f", K8S.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0 && out.contains("unable to recognize") && out.contains("connection refused")) {
            // Even a client-side dry run asks an API server which kinds exist; with no cluster, kubectl's own offline
            // decoder (label --local) still parses every object and maps its kind.
            System.err.println("DeployManifestsTest: no API server for 'kubectl apply --dry-run=client'; checking with 'kubectl label --local'");
            p = new ProcessBuilder(kubectl.toString(), "label", "--local", "-f", K8S.toString(), "checked=true", "-o", "name").redirectErrorStream(true).start();
            out = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor()).as(out).isZero();
            assertThat(out).contains("deployment.apps/autoglm", "horizontalpodautoscaler.autoscaling/autoglm", "poddisruptionbudget.policy/autoglm",
                    "service/autoglm", "secret/autoglm-keys", "configmap/autoglm-config", "configmap/adapter-config");
            return;
        }
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("deployment.apps/autoglm created (dry run)", "horizontalpodautoscaler.autoscaling/autoglm created (dry run)");
    }

    /** Kubernetes quantities: 512Mi, 1Gi, 1G, or bytes. */
    static long bytes(String q) {
        Matcher m = Pattern.compile("(\\d+)(Ki|Mi|Gi|K|M|G)?").matcher(q);
        assertThat(m.matches()).as(q).isTrue();
        long n = Long.parseLong(m.group(1));
        return m.group(2) == null ? n : switch (m.group(2)) {
            case "Ki" -> n << 10;
            case "Mi" -> n << 20;
            case "Gi" -> n << 30;
            case "K" -> n * 1000;
            case "M" -> n * 1000_000;
            default -> n * 1000_000_000;
        };
    }
}
