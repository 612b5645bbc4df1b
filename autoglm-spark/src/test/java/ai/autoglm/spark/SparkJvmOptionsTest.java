package ai.autoglm.spark;

import org.apache.spark.launcher.JavaModuleOptions;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The documented flags are Spark's own launcher flags plus the engine's, and are what the tests themselves run with. */
class SparkJvmOptionsTest {
    @Test
    void javaOptionsHoldEverySparkLauncherFlagAndTheEngines() {
        List<String> ours = Arrays.asList(SparkJvmOptions.JAVA_OPTIONS.split(" "));
        assertThat(ours).containsAll(Arrays.asList(JavaModuleOptions.defaultModuleOptionArray()));
        assertThat(ours).contains("--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xss16m");
    }

    @Test
    void theLauncherScriptGivesTheSameFlags() throws Exception {
        Process p = new ProcessBuilder("bash", "-c", "source scripts/spark-submit-env.sh && printf '%s' \"$AUTOGLM_SPARK_JAVA_OPTIONS\"")
                .directory(Path.of("..").toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).isEqualTo(SparkJvmOptions.JAVA_OPTIONS);
    }

    @Test
    void surefireRunsTheTestsWithTheDocumentedFlags() {
        // The pom's spark.jvm.flags (surefire's argLine) is handed to the test JVM as a system property.
        assertThat(System.getProperty("spark.jvm.flags")).isEqualTo(SparkJvmOptions.JAVA_OPTIONS);
        assertThat(SparkJvmOptions.conf()).containsOnlyKeys("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions")
                .allSatisfy((k, v) -> assertThat(v).isEqualTo(SparkJvmOptions.JAVA_OPTIONS));
    }
}
