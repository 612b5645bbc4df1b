package ai.autoglm.core.tensor;

/**
 * Decides once per JVM whether the tensor kernels use the Vector API. The scalar paths are the reference
 * and the fallback: {@code -Dautoglm.scalar=true} forces them (for machines where the incubating Vector API
 * is slow or absent), and they are chosen automatically when the {@code jdk.incubator.vector} module is not
 * in the boot layer or its preferred float species is narrower than 128 bits. {@link VectorKernels} and each tensor
 * type's nested {@code Kernels} class are only loaded when this says yes, so a JVM without the module never touches
 * a Vector API class.
 */
public final class VectorSupport {
    /** True when {@link FloatTensor#dot} of the GGML tensor types runs the Vector API kernels. */
    public static final boolean ENABLED = detect();

    private VectorSupport() {
    }

    /** Bits of the float vectors the Vector API kernels use (512, 256 under -XX:UseAVX=2, 128), or 0 when scalar. */
    public static int floatVectorBits() {
        return ENABLED ? VectorKernels.FLOAT_LANES * Float.SIZE : 0;
    }

    private static boolean detect() {
        if (Boolean.getBoolean("autoglm.scalar")) return false;
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) return false;
        try {
            return VectorKernels.FLOAT_LANES >= 4;
        } catch (Throwable t) { // LinkageError or anything else from an unusable incubator module
            return false;
        }
    }
}
