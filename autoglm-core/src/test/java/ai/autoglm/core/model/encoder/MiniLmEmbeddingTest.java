package ai.autoglm.core.model.encoder;

/** sentence-transformers/all-MiniLM-L6-v2 (6 layers, 384 wide, mean pooling; its tokenizer.json truncates at 128). */
class MiniLmEmbeddingTest extends OnnxRuntimeReferenceTest {
    @Override
    String modelName() {
        return EmbeddingJars.MINILM;
    }

    @Override
    Pooling modelCardPooling() {
        return Pooling.MEAN;
    }

    @Override
    int expectedMaxTokens() {
        return 128;
    }
}
