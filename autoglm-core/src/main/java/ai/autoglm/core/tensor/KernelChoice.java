package ai.autoglm.core.tensor;

import java.util.Locale;

/**
 * Which kernels the matrix products use: {@code auto} (the default: the native library where it loaded with a SIMD
 * variant and has a kernel for the weight type, else the Java kernels), {@code java} (always the pure-Java kernels,
 * the reference) or {@code native} (like auto, but failing at start-up when the library did not load). Set by
 * {@code --kernels} on run/serve/bench, or {@code -Dautoglm.kernels=...}.
 */
public final class KernelChoice {
    public enum Mode { AUTO, JAVA, NATIVE }

    private static volatile Mode mode = parse(System.getProperty("autoglm.kernels", "auto"));

    private KernelChoice() {
    }

    /** Parses auto|java|native (any case); anything else is one clear error. */
    public static Mode parse(String s) {
        try {
            return Mode.valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("kernels must be auto, java or native, got '" + s + "'");
        }
    }

    public static Mode mode() {
        return mode;
    }

    /**
     * Sets the mode for the products that start after this call. {@code native} fails here, with the loader's reason,
     * when the library is not loaded.
     */
    public static void set(Mode m) {
        if (m == Mode.NATIVE && !NativeKernels.loaded()) {
            throw new IllegalStateException("--kernels native: the native kernel library is not available ("
                    + NativeKernels.loadError() + "); use --kernels java or auto");
        }
        mode = m;
    }

    /** Whether a product with weights of this type runs the native kernels. */
    public static boolean nativeFor(GgmlType type) {
        Mode m = mode;
        if (m == Mode.JAVA) return false;
        if (m == Mode.AUTO && (!NativeKernels.simd() || !VectorSupport.ENABLED)) return false;
        if (m == Mode.NATIVE && !NativeKernels.loaded()) {
            throw new IllegalStateException("kernels=native: the native kernel library is not available (" + NativeKernels.loadError() + ")");
        }
        return NativeKernels.supports(type);
    }

    /**
     * Whether a many-token product (prefill) with weights of this type runs the native K-quant GEMM
     * ({@link NativeKernels#gemm}): the same mode rules as {@link #nativeFor}.
     */
    public static boolean nativeGemmFor(GgmlType type) {
        Mode m = mode;
        if (m == Mode.JAVA) return false;
        if (m == Mode.AUTO && (!NativeKernels.simd() || !VectorSupport.ENABLED)) return false;
        if (m == Mode.NATIVE && !NativeKernels.loaded()) {
            throw new IllegalStateException("kernels=native: the native kernel library is not available (" + NativeKernels.loadError() + ")");
        }
        return NativeKernels.supportsGemm(type);
    }

    /** What a product of this type runs, for reports: "native avx512vnni", "vector" or "scalar". */
    public static String describe(GgmlType type) {
        if (nativeFor(type) || nativeGemmFor(type)) return "native " + NativeKernels.isa();
        return VectorSupport.ENABLED ? "vector" : "scalar";
    }
}
