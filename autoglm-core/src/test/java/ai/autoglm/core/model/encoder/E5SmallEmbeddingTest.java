package ai.autoglm.core.model.encoder;

/** intfloat/e5-small-v2 (12 layers, 384 wide, mean pooling, 512 tokens). */
class E5SmallEmbeddingTest extends OnnxRuntimeReferenceTest {
    @Override
    String modelName() {
        return EmbeddingJars.E5;
    }

    @Override
    Pooling modelCardPooling() {
        return Pooling.MEAN;
    }

    @Override
    int expectedMaxTokens() {
        return 512;
    }

    @Override
    int maxEmbeddedTokens() {
        return 128;
    }
}
