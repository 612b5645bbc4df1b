package ai.autoglm.spark;

import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * The Dataset API: adds answer or embedding columns to a DataFrame. Each partition streams its rows through the
 * executor's one loaded model ({@link ExecutorModels}): generation through the continuous-batching scheduler (many rows
 * decoded per pass over the weights), embeddings in batches of {@link EmbeddingSettings#batchSize} rows. This is the
 * fast path; the SQL functions of {@link AutoglmFunctions} see one row at a time.
 *
 * <pre>{@code
 * Dataset<Row> answers = AutoglmSpark.generate(df, "prompt", GenerationSettings.of("/models/model.gguf").withMaxTokens(32));
 * Dataset<Row> vectors = AutoglmSpark.embed(df, "text", EmbeddingSettings.of("/models/bge-small-zh-v1.5.gguf"));
 * }</pre>
 */
public final class AutoglmSpark {
    public static final String TEXT = "generated_text";
    public static final String PROMPT_TOKENS = "prompt_tokens";
    public static final String COMPLETION_TOKENS = "completion_tokens";
    public static final String FINISH_REASON = "finish_reason";
    /** Why a row has no answer (its prompt does not fit, the model failed on it); null when it has one. */
    public static final String ERROR = "generation_error";
    public static final String EMBEDDING = "embedding";
    public static final String EMBEDDING_TOKENS = "embedding_tokens";

    /** The columns {@link #generate} and {@link #chat} add. */
    public static final StructType GENERATED = new StructType(new StructField[]{
            DataTypes.createStructField(TEXT, DataTypes.StringType, true),
            DataTypes.createStructField(PROMPT_TOKENS, DataTypes.IntegerType, true),
            DataTypes.createStructField(COMPLETION_TOKENS, DataTypes.IntegerType, true),
            DataTypes.createStructField(FINISH_REASON, DataTypes.StringType, true),
            DataTypes.createStructField(ERROR, DataTypes.StringType, true)});

    /** The columns {@link #embed} adds. */
    public static final StructType EMBEDDED = new StructType(new StructField[]{
            DataTypes.createStructField(EMBEDDING, DataTypes.createArrayType(DataTypes.FloatType, false), true),
            DataTypes.createStructField(EMBEDDING_TOKENS, DataTypes.IntegerType, true)});

    private AutoglmSpark() {
    }

    /** Completes each row's {@code promptColumn} (plain text, no chat template) and adds {@link #GENERATED}'s columns. */
    public static Dataset<Row> generate(Dataset<Row> df, String promptColumn, GenerationSettings settings) {
        return generated(df, promptColumn, settings, false);
    }

    /**
     * Answers each row's {@code userColumn} as one user turn (after the settings' system prompt) in the model's chat
     * template, and adds {@link #GENERATED}'s columns.
     */
    public static Dataset<Row> chat(Dataset<Row> df, String userColumn, GenerationSettings settings) {
        return generated(df, userColumn, settings, true);
    }

    /** Embeds each row's {@code textColumn} and adds {@link #EMBEDDED}'s columns (null text: null embedding). */
    public static Dataset<Row> embed(Dataset<Row> df, String textColumn, EmbeddingSettings settings) {
        int in = stringColumn(df, textColumn);
        StructType out = withColumns(df.schema(), EMBEDDED);
        return df.mapPartitions(new EmbedPartition(in, settings), Encoders.row(out));
    }

    private static Dataset<Row> generated(Dataset<Row> df, String column, GenerationSettings settings, boolean chat) {
        int in = stringColumn(df, column);
        StructType out = withColumns(df.schema(), GENERATED);
        return df.mapPartitions(new GeneratePartition(in, settings, chat), Encoders.row(out));
    }

    private static int stringColumn(Dataset<Row> df, String column) {
        StructField[] fields = df.schema().fields();
        for (int i = 0; i < fields.length; i++) {
            if (fields[i].name().equals(column)) {
                if (!(fields[i].dataType() instanceof StringType)) {
                    throw new IllegalArgumentException("column `" + column + "` is " + fields[i].dataType().simpleString() + "; expected string");
                }
                return i;
            }
        }
        throw new IllegalArgumentException("no column `" + column + "` in " + df.schema().simpleString());
    }

    private static StructType withColumns(StructType schema, StructType added) {
        List<String> names = Arrays.asList(schema.fieldNames());
        StructType out = schema;
        for (StructField f : added.fields()) {
            if (names.contains(f.name())) {
                throw new IllegalArgumentException("the DataFrame already has a column `" + f.name() + "`; rename or drop it first");
            }
            out = out.add(f);
        }
        return out;
    }

    static Row append(Row row, Object... values) {
        Object[] all = new Object[row.length() + values.length];
        for (int i = 0; i < row.length(); i++) all[i] = row.get(i);
        System.arraycopy(values, 0, all, row.length(), values.length);
        return RowFactory.create(all);
    }

    /** Runs on the executors: one partition's rows through the executor's scheduler. */
    private record GeneratePartition(int column, GenerationSettings settings, boolean chat) implements MapPartitionsFunction<Row, Row> {
        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            LoadedGenerator g = ExecutorModels.generator(settings);
            return PartitionGenerator.map(rows, g, settings, row -> {
                if (row.isNullAt(column)) return null;
                String text = row.getString(column);
                return chat ? g.chatPrompt(settings.systemPrompt(), text) : g.completionPrompt(text);
            }, r -> {
                Generated a = r.generated();
                return a == null ? append(r.input(), null, null, null, null, null)
                        : append(r.input(), a.text(), a.promptTokens(), a.completionTokens(), a.finishReason(), a.error());
            });
        }
    }

    /** Runs on the executors: one partition's rows through the executor's encoder, a batch at a time. */
    private record EmbedPartition(int column, EmbeddingSettings settings) implements MapPartitionsFunction<Row, Row> {
        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            LoadedEmbedder e = ExecutorModels.embedder(settings.model());
            return new Iterator<>() {
                private final ArrayList<Row> done = new ArrayList<>();
                private int next;

                @Override
                public boolean hasNext() {
                    if (next < done.size()) return true;
                    done.clear();
                    next = 0;
                    List<Row> batch = new ArrayList<>(settings.batchSize());
                    while (batch.size() < settings.batchSize() && rows.hasNext()) batch.add(rows.next());
                    if (batch.isEmpty()) return false;
                    List<int[]> ids = new ArrayList<>();
                    for (Row r : batch) if (!r.isNullAt(column)) ids.add(e.tokenize(r.getString(column)));
                    float[][] vectors = ids.isEmpty() ? new float[0][] : e.embedTokens(ids);
                    int k = 0;
                    for (Row r : batch) {
                        if (r.isNullAt(column)) {
                            done.add(append(r, null, null));
                        } else {
                            done.add(append(r, vectors[k], ids.get(k).length));
                            k++;
                        }
                    }
                    return true;
                }

                @Override
                public Row next() {
                    if (!hasNext()) throw new java.util.NoSuchElementException();
                    return done.get(next++);
                }
            };
        }
    }
}
