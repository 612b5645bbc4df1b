/**
 * The runtime memory of a model (weights, KV cache, the engine's own working buffers as {@code InferenceState}
 * computes them, the JVM), the memory budget, and the automatic slot count that fits it.
 */
package ai.autoglm.core.memory;
