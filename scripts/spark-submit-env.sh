# Sourced (or run) to give Spark JVMs the flags autoglm-spark needs on JDK 25. Kept in step with
# ai.autoglm.spark.SparkJvmOptions.JAVA_OPTIONS (SparkJvmOptionsTest holds the module's tests to the same value).
#   source scripts/spark-submit-env.sh
#   spark-submit "${AUTOGLM_SPARK_CONF[@]}" --class com.example.MyJob my-job.jar       # cluster or local
#   java $AUTOGLM_SPARK_JAVA_OPTIONS -cp ... com.example.MyJob                           # a driver started without spark-submit
# Run with arguments, it is spark-submit with those flags: scripts/spark-submit-env.sh --class ... my-job.jar
_autoglm_spark_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$_autoglm_spark_here/java-env.sh"
AUTOGLM_SPARK_JAVA_OPTIONS="-XX:+IgnoreUnrecognizedVMOptions --add-modules=jdk.incubator.vector --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED -Dio.netty.tryReflectionSetAccessible=true -Dio.netty.allocator.type=pooled -Dio.netty.handler.ssl.defaultEndpointVerificationAlgorithm=NONE --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss16m"
AUTOGLM_SPARK_CONF=(--conf "spark.driver.extraJavaOptions=$AUTOGLM_SPARK_JAVA_OPTIONS" --conf "spark.executor.extraJavaOptions=$AUTOGLM_SPARK_JAVA_OPTIONS")
export AUTOGLM_SPARK_JAVA_OPTIONS
if [ "${BASH_SOURCE[0]}" = "$0" ] && [ $# -gt 0 ]; then
  exec spark-submit "${AUTOGLM_SPARK_CONF[@]}" "$@"
fi
