package ai.autoglm.spark;

import java.util.Map;

/**
 * The JVM flags a Spark JVM needs on JDK 25 to run autoglm: Spark's own module flags (copied from Spark 4.2's
 * {@code org.apache.spark.launcher.JavaModuleOptions}, which {@code spark-submit} adds by itself, but an application
 * that starts its own JVM with {@code master=local[*]} must pass) plus the engine's (the Vector API module, native
 * access for the memory-mapped weights, a larger thread stack for the chat-template engine).
 *
 * <p>Use {@link #JAVA_OPTIONS} on the {@code java} command line of a driver started without spark-submit, and
 * {@link #conf()} (or {@code scripts/spark-submit-env.sh}) for spark-submit's driver and executors.
 */
public final class SparkJvmOptions {
    /** Spark 4.2's JavaModuleOptions, in its order. */
    public static final String SPARK_MODULE_OPTIONS = String.join(" ",
            "-XX:+IgnoreUnrecognizedVMOptions",
            "--add-modules=jdk.incubator.vector",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
            "--add-opens=java.base/sun.security.action=ALL-UNNAMED",
            "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED",
            "--add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "-Dio.netty.tryReflectionSetAccessible=true",
            "-Dio.netty.allocator.type=pooled",
            "-Dio.netty.handler.ssl.defaultEndpointVerificationAlgorithm=NONE",
            "--sun-misc-unsafe-memory-access=allow",
            "--enable-native-access=ALL-UNNAMED");

    /** The engine's own flags (scripts/java-env.sh's AUTOGLM_JVM_FLAGS, less the GC choice, which is the user's). */
    public static final String AUTOGLM_OPTIONS = "--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss16m";

    /** Everything a driver or executor JVM of an autoglm Spark job needs. */
    public static final String JAVA_OPTIONS = SPARK_MODULE_OPTIONS + " " + AUTOGLM_OPTIONS;

    private SparkJvmOptions() {
    }

    /** {@code spark.driver.extraJavaOptions} and {@code spark.executor.extraJavaOptions} set to {@link #JAVA_OPTIONS}. */
    public static Map<String, String> conf() {
        return Map.of("spark.driver.extraJavaOptions", JAVA_OPTIONS, "spark.executor.extraJavaOptions", JAVA_OPTIONS);
    }

    /** Prints {@link #JAVA_OPTIONS}, for scripts: {@code java -cp autoglm-spark.jar ai.autoglm.spark.SparkJvmOptions}. */
    public static void main(String[] args) {
        System.out.println(JAVA_OPTIONS);
    }
}
