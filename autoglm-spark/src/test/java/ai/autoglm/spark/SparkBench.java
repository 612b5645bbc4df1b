package ai.autoglm.spark;

import ai.autoglm.core.model.encoder.BertEmbeddingModel;
import ai.autoglm.core.model.encoder.EmbeddingModels;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Rows per second in Spark local mode against the engine alone in one JVM, on the same rows and settings
 * (bench/spark/run.sh runs it; results in bench/RESULTS.md). Each measurement follows one warm-up pass that also loads
 * the model, so load time is not counted on either side.
 *
 * <p>Args: master (local[2]), embedding model path, generative model path, embed rows, generate rows, max tokens.
 */
public final class SparkBench {
    public static void main(String[] args) {
        String master = args[0];
        String embedModel = args[1];
        String genModel = args[2];
        int embedRows = Integer.parseInt(args[3]);
        int genRows = Integer.parseInt(args[4]);
        int maxTokens = Integer.parseInt(args[5]);
        List<String> sentences = FortuneSentences.take(embedRows, 8, 40);
        List<String> prompts = FortuneSentences.take(genRows, 8, 40);
        EmbeddingSettings emb = new EmbeddingSettings(embedModel, 64);
        GenerationSettings gen = GenerationSettings.of(genModel).withMaxTokens(maxTokens).withSlots(16).withContext(256);

        // The engine alone: the same encoder in batches of 64, and the same scheduler fed from one thread.
        try (BertEmbeddingModel alone = (BertEmbeddingModel) EmbeddingModels.load(Path.of(embedModel))) {
            alone.embed(sentences.subList(0, Math.min(256, sentences.size())));
            long t = System.nanoTime();
            for (int i = 0; i < sentences.size(); i += 64) alone.embed(sentences.subList(i, Math.min(sentences.size(), i + 64)));
            report("embed", "engine alone", sentences.size(), t);
        }
        LoadedGenerator g = ExecutorModels.generator(gen);
        drain(PartitionGenerator.map(prompts.iterator(), g, gen, g::completionPrompt, r -> r));
        long t = System.nanoTime();
        drain(PartitionGenerator.map(prompts.iterator(), g, gen, g::completionPrompt, r -> r));
        report("generate", "engine alone", prompts.size(), t);
        ExecutorModels.closeAll();

        SparkSession spark = SparkSession.builder().master(master).appName("autoglm-spark-bench")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
        try {
            int partitions = spark.sparkContext().defaultParallelism() * 2;
            Dataset<Row> texts = table(spark, sentences, partitions).cache();
            texts.count();
            AutoglmSpark.embed(texts, "text", emb).count();
            t = System.nanoTime();
            AutoglmSpark.embed(texts, "text", emb).count();
            report("embed", "Spark " + master, sentences.size(), t);
            Dataset<Row> ps = table(spark, prompts, partitions).cache();
            ps.count();
            AutoglmSpark.generate(ps, "text", gen).count();
            t = System.nanoTime();
            AutoglmSpark.generate(ps, "text", gen).count();
            report("generate", "Spark " + master, prompts.size(), t);
        } finally {
            spark.stop();
            ExecutorModels.closeAll();
        }
    }

    static Dataset<Row> table(SparkSession spark, List<String> values, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (String v : values) rows.add(RowFactory.create(v));
        return spark.createDataFrame(rows, new StructType().add("text", DataTypes.StringType)).repartition(partitions);
    }

    static void drain(Iterator<?> it) {
        while (it.hasNext()) it.next();
    }

    static void report(String what, String where, int rows, long startNanos) {
        double s = (System.nanoTime() - startNanos) / 1e9;
        System.out.printf("RESULT %-8s %-16s %6d rows %7.1f s %8.1f rows/s%n", what, where, rows, s, rows / s);
    }
}
