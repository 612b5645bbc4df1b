package ai.autoglm.core.model.encoder;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The real trained encoders of the {@code dev.langchain4j:langchain4j-embeddings-*} jars (test dependencies): each
 * holds one {@code <model>.onnx} and {@code <model>-tokenizer.json} at its root. Public for the server's embeddings tests.
 */
public final class EmbeddingJars {
    public static final String MINILM = "all-minilm-l6-v2";
    public static final String BGE_EN = "bge-small-en-v1.5";
    public static final String BGE_ZH = "bge-small-zh-v1.5";
    public static final String E5 = "e5-small-v2";

    private EmbeddingJars() {
    }

    /** The jar that holds {@code <model>.onnx}. */
    public static Path jar(String model) {
        URL url = EmbeddingJars.class.getClassLoader().getResource(model + ".onnx");
        if (url == null || !"jar".equals(url.getProtocol())) {
            fail("test resource " + model + ".onnx not found: the langchain4j-embeddings test dependencies are missing");
        }
        String s = url.toString();
        try {
            return Path.of(new java.net.URI(s.substring("jar:".length(), s.indexOf("!/"))));
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static byte[] entry(String model, String name) {
        try (ZipFile zip = new ZipFile(jar(model).toFile())) {
            ZipEntry e = zip.getEntry(name);
            if (e == null) fail(name + " is not in " + jar(model));
            try (InputStream in = zip.getInputStream(e)) {
                return in.readAllBytes();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static byte[] onnx(String model) {
        return entry(model, model + ".onnx");
    }

    /** The tokenizer.json, extracted into {@code dir} (for the Node reference, which reads files). */
    static Path tokenizerJson(String model, Path dir) {
        Path p = dir.resolve(model + "-tokenizer.json");
        try {
            if (!Files.exists(p)) Files.write(p, entry(model, model + "-tokenizer.json"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }
}
