package ai.autoglm.compress.auto;

import ai.autoglm.core.tensor.GgmlType;

/**
 * What one candidate of the compression search does to the model: a storage type per tensor group and how many MLP
 * channels each layer keeps (structured pruning; {@code ffnChannels == } the model's ffn width means none).
 *
 * @param attnType    attention projections q/k/v (or fused q|k|v) and output
 * @param ffnType     MLP gate, up and down projections
 * @param embdType    token embeddings and the output head
 * @param ffnChannels MLP channels kept per layer
 */
public record CompressionRecipe(GgmlType attnType, GgmlType ffnType, GgmlType embdType, int ffnChannels) {
    public CompressionRecipe {
        if (ffnChannels < 1) throw new IllegalArgumentException("ffn channels must be positive, got " + ffnChannels);
    }
}
