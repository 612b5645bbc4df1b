package ai.autoglm.core.model.encoder;

/** BAAI/bge-small-en-v1.5 (12 layers, 384 wide, CLS pooling, 512 tokens). */
class BgeSmallEnEmbeddingTest extends OnnxRuntimeReferenceTest {
    @Override
    String modelName() {
        return EmbeddingJars.BGE_EN;
    }

    @Override
    Pooling modelCardPooling() {
        return Pooling.CLS;
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
