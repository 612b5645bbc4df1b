package ai.autoglm.spark;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.Collections;
import java.util.List;

/**
 * Spark SQL functions and their Column forms. After {@link #register}:
 *
 * <pre>
 * SELECT autoglm_generate(prompt).text FROM prompts;              -- struct&lt;text, prompt_tokens, completion_tokens, finish_reason, error&gt;
 * SELECT autoglm_chat(question).text FROM questions;              -- one user turn in the model's chat template
 * SELECT autoglm_embed(sentence) AS v FROM sentences;             -- array&lt;float&gt;
 * </pre>
 *
 * or {@code df.select(AutoglmFunctions.generate(col("prompt")))}. A SQL function sees one row at a time, so a task
 * waits for each answer before the next; rows batch only with the other tasks running on the same executor (they
 * share its scheduler). {@link AutoglmSpark}'s Dataset API keeps many rows of a partition in flight and is the faster
 * path for large tables.
 */
public final class AutoglmFunctions {
    public static final String GENERATE = "autoglm_generate";
    public static final String CHAT = "autoglm_chat";
    public static final String EMBED = "autoglm_embed";

    /** What {@code autoglm_generate} and {@code autoglm_chat} return (the Dataset API's columns, under short names). */
    public static final StructType ANSWER = new StructType(new StructField[]{
            DataTypes.createStructField("text", DataTypes.StringType, true),
            DataTypes.createStructField("prompt_tokens", DataTypes.IntegerType, true),
            DataTypes.createStructField("completion_tokens", DataTypes.IntegerType, true),
            DataTypes.createStructField("finish_reason", DataTypes.StringType, true),
            DataTypes.createStructField("error", DataTypes.StringType, true)});

    private AutoglmFunctions() {
    }

    /**
     * Registers {@code autoglm_generate} and {@code autoglm_chat} (when {@code generation} is not null) and
     * {@code autoglm_embed} (when {@code embedding} is not null) in {@code spark}'s session.
     */
    public static void register(SparkSession spark, GenerationSettings generation, EmbeddingSettings embedding) {
        if (generation == null && embedding == null) throw new IllegalArgumentException("register needs generation or embedding settings");
        if (generation != null) {
            spark.udf().register(GENERATE, once(functions.udf(new GenerateOne(generation, false), ANSWER)));
            spark.udf().register(CHAT, once(functions.udf(new GenerateOne(generation, true), ANSWER)));
        }
        if (embedding != null) {
            spark.udf().register(EMBED, once(functions.udf(new EmbedOne(embedding), AutoglmSpark.EMBEDDED.fields()[0].dataType())));
        }
    }

    /**
     * Marked nondeterministic so that the optimizer never copies the call: {@code withColumn("a", autoglm_generate(p))}
     * followed by {@code select("a.text", "a.completion_tokens")} would otherwise be collapsed into two calls, each
     * generating the answer again.
     */
    private static UserDefinedFunction once(UserDefinedFunction f) {
        return f.asNondeterministic();
    }

    public static Column generate(Column prompt) {
        return functions.call_function(GENERATE, prompt);
    }

    public static Column chat(Column userMessage) {
        return functions.call_function(CHAT, userMessage);
    }

    public static Column embed(Column text) {
        return functions.call_function(EMBED, text);
    }

    private record GenerateOne(GenerationSettings settings, boolean chat) implements UDF1<String, Row> {
        @Override
        public Row call(String text) {
            if (text == null) return null;
            LoadedGenerator g = ExecutorModels.generator(settings);
            Generated a = PartitionGenerator.map(Collections.singletonList(text).iterator(), g, settings,
                    t -> chat ? g.chatPrompt(settings.systemPrompt(), t) : g.completionPrompt(t), PartitionGenerator.Result::generated).next();
            return RowFactory.create(a.text(), a.promptTokens(), a.completionTokens(), a.finishReason(), a.error());
        }
    }

    private record EmbedOne(EmbeddingSettings settings) implements UDF1<String, float[]> {
        @Override
        public float[] call(String text) {
            if (text == null) return null;
            LoadedEmbedder e = ExecutorModels.embedder(settings.model());
            return e.embedTokens(List.of(e.tokenize(text)))[0];
        }
    }
}
