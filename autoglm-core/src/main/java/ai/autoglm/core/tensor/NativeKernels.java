package ai.autoglm.core.tensor;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * The optional native kernel library ({@code autoglm-core/src/main/c}, {@code libautoglm_kernels.so}), bound through
 * FFM: quantized weight rows, read in place from their segment, times activations quantized to 8 bits per block
 * (int8 dot products: AVX512-VNNI or AVX-VNNI {@code vpdpbusd}, AVX2 {@code vpmaddubsw}; JDK 25's Vector API has no
 * such operation, see docs/speed.md); and F16 rows times float activations ({@link #floatActivations}: vcvtph2ps,
 * several rows in flight). The library picks its variant by CPU features when loaded.
 *
 * <p>Found as {@code -Dautoglm.native.lib=PATH}, else as the class-path resource
 * {@code native/<os>-<arch>/libautoglm_kernels.so} (target/classes in a source tree, extracted to a temporary file
 * when inside a jar). When it is absent or does not load, {@link #loaded()} is false and {@link #loadError()} says
 * why; nothing else changes (the pure-Java kernels). Whether products use it is {@link KernelChoice}'s decision.
 */
public final class NativeKernels {
    /** The ISAs of the library's variants, by the number {@code agk_init} takes and returns. */
    public static final String[] ISA_NAMES = {"c", "avx2", "avxvnni", "avx512vnni"};

    private static final String LIB_NAME = "libautoglm_kernels.so";
    private static final Lib LIB;
    private static final String LOAD_ERROR;
    private static volatile int isa = -1;

    static {
        Lib lib = null;
        String error = null;
        try {
            lib = new Lib(locate());
            isa = lib.init(isaOverride());
            if (isa < 0) {
                error = "the ISA forced by -Dautoglm.native.isa=" + System.getProperty("autoglm.native.isa") + " is not supported by this CPU";
                lib = null;
            }
        } catch (Throwable t) { // absent resource, dlopen failure, no native access: all mean "use Java"
            error = t.getClass().getSimpleName() + ": " + t.getMessage();
            lib = null;
        }
        LIB = lib;
        LOAD_ERROR = error;
    }

    private NativeKernels() {
    }

    /** Whether the library loaded and bound. */
    public static boolean loaded() {
        return LIB != null;
    }

    /** Why the library is not loaded (null when it is). */
    public static String loadError() {
        return LOAD_ERROR;
    }

    /** The variant in use ({@link #ISA_NAMES}), or "none". */
    public static String isa() {
        return LIB == null ? "none" : ISA_NAMES[isa];
    }

    /** Whether the variant in use is a SIMD one (the portable C variant is no faster than the Vector API kernels). */
    static boolean simd() {
        return LIB != null && isa >= 1;
    }

    /**
     * Switches to the named variant (tests run every variant the CPU has); returns false, changing nothing, when
     * this CPU lacks it. Not for use while products run.
     */
    public static boolean selectIsa(String name) {
        int i = java.util.Arrays.asList(ISA_NAMES).indexOf(name);
        if (LIB == null || i < 0) return false;
        int got = LIB.init(i);
        if (got < 0) return false;
        isa = got;
        return true;
    }

    /** Whether the library has a kernel for this type. */
    public static boolean supports(GgmlType type) {
        return LIB != null && SUPPORTED[type.ordinal()];
    }

    /** {@code agk_supports} per type, asked once (the question comes with every matrix product). */
    private static final boolean[] SUPPORTED = supportedTypes();

    private static boolean[] supportedTypes() {
        boolean[] s = new boolean[GgmlType.values().length];
        if (LIB != null) for (GgmlType t : GgmlType.values()) s[t.ordinal()] = LIB.supports(t.id);
        return s;
    }

    /** Whether the library has a many-token GEMM for this type ({@code agk_kq_gemm}: the K-quants Q2_K to Q6_K). */
    public static boolean supportsGemm(GgmlType type) {
        return LIB != null && SUPPORTED_GEMM[type.ordinal()];
    }

    private static final boolean[] SUPPORTED_GEMM = supportedGemmTypes();

    /**
     * Turns the AMX tile multiplies of the AVX512-VNNI variant's GEMM on or off ({@code agk_kq_gemm_amx}; on by
     * default where the CPU has AMX-INT8 and Linux grants the tile state); returns whether they are on. For tests and
     * A/B measurements ({@code -Dautoglm.native.amx=false}); not for use while products run.
     */
    public static boolean gemmAmx(boolean on) {
        return LIB != null && LIB.gemmAmx(on);
    }

    static {
        if (LIB != null && "false".equals(System.getProperty("autoglm.native.amx"))) LIB.gemmAmx(false);
    }

    private static boolean[] supportedGemmTypes() {
        boolean[] s = new boolean[GgmlType.values().length];
        if (LIB != null) for (GgmlType t : GgmlType.values()) s[t.ordinal()] = LIB.gemmSupports(t.id);
        return s;
    }

    /**
     * The K-quant GEMM for prefill ({@code agk_kq_gemm}, autoglm-core/src/main/c/kquant_gemm.c): the contract of
     * {@link #matmul}, the weights decoded once per 16-row panel and reused across all {@code count} tokens.
     */
    public static void gemm(SegmentTensor w, int n, MemorySegment xq, long xqStride, int count, float[] out, int outOff, int d, int r0, int r1) {
        GgmlType t = w.type();
        java.util.Objects.checkFromToIndex(r0, r1, d);
        java.util.Objects.checkFromIndexSize(outOff, (long) (count - 1) * d + r1, out.length);
        if (!supportsGemm(t) || w.size() < (long) r1 * n || n % t.blockSize != 0 || xq.byteSize() < xqStride * count) {
            throw new IllegalArgumentException("native gemm out of bounds");
        }
        long rowBytes = (long) n / t.blockSize * t.typeSize;
        LIB.gemm(t.id, w.segment(), rowBytes, r0, r1, n, xq, xqStride, count, MemorySegment.ofArray(out).asSlice(4L * outOff), d);
    }

    /** Bytes {@link #gemmPack} writes for {@code count} tokens of {@code n} elements (weights of type t). */
    public static long gemmPackedBytes(GgmlType t, int n, int count) {
        if (!supportsGemm(t) || n % t.blockSize != 0 || count < 1) throw new IllegalArgumentException("native gemm pack: bad shape");
        return LIB.gemmPackedBytes(t.id, n, count);
    }

    /**
     * The tokens of {@link #gemmPacked}, packed once per product on the caller ({@code agk_kq_pack}): {@link #gemm}
     * packs them in every call, i.e. once per row range.
     */
    public static void gemmPack(GgmlType t, int n, MemorySegment xq, long xqStride, int count, MemorySegment packed) {
        if (xq.byteSize() < xqStride * count || xqStride < quantizedBytes(t, n) || packed.byteSize() < gemmPackedBytes(t, n, count)) {
            throw new IllegalArgumentException("native gemm pack out of bounds");
        }
        LIB.gemmPack(t.id, n, xq, xqStride, count, packed);
    }

    /** {@link #gemm} on tokens packed by {@link #gemmPack}. */
    public static void gemmPacked(SegmentTensor w, int n, MemorySegment packed, int count, float[] out, int outOff, int d, int r0, int r1) {
        GgmlType t = w.type();
        java.util.Objects.checkFromToIndex(r0, r1, d);
        java.util.Objects.checkFromIndexSize(outOff, (long) (count - 1) * d + r1, out.length);
        if (w.size() < (long) r1 * n || packed.byteSize() < gemmPackedBytes(t, n, count)) {
            throw new IllegalArgumentException("native gemm out of bounds");
        }
        long rowBytes = (long) n / t.blockSize * t.typeSize;
        LIB.gemmPacked(t.id, w.segment(), rowBytes, r0, r1, n, packed, count, MemorySegment.ofArray(out).asSlice(4L * outOff), d);
    }

    /**
     * {@code out[outOff + t*d + i] = W[i] . x[xOff + t*n ..]} for rows {@code [r0, r1)} and {@code t < count}, x already
     * quantized by {@link #quantize} into {@code xq}. Called from the compute pool's threads on row ranges.
     */
    public static void matmul(SegmentTensor w, int n, MemorySegment xq, long xqStride, int count, float[] out, int outOff, int d, int r0, int r1) {
        GgmlType t = w.type();
        // The library reads and writes through raw addresses: every bound is checked here.
        java.util.Objects.checkFromToIndex(r0, r1, d);
        java.util.Objects.checkFromIndexSize(outOff, (long) (count - 1) * d + r1, out.length);
        if (w.size() < (long) r1 * n || n % t.blockSize != 0 || xq.byteSize() < xqStride * count) {
            throw new IllegalArgumentException("native matmul out of bounds");
        }
        long rowBytes = (long) n / t.blockSize * t.typeSize;
        LIB.matmul(t.id, w.segment(), rowBytes, r0, r1, n, xq, xqStride, count, MemorySegment.ofArray(out).asSlice(4L * outOff), d);
    }

    /**
     * Whether this type's kernel reads the activations as they are, n floats per token (F16: an F16 file is chosen
     * for its precision, so its activations are not quantized; {@code kernels_f16.inc}), instead of
     * {@link #quantize}d ones. Then {@link #matmul}'s {@code xq} is the float array itself ({@link MemorySegment#ofArray}),
     * stride {@code 4 n}.
     */
    public static boolean floatActivations(GgmlType t) {
        return t == GgmlType.F16;
    }

    /**
     * Bytes of the row-interleaved ("packed", {@code packed.inc}) copy of {@code d} rows of {@code n} elements of type
     * t, or 0 when the library has no packed layout for t (only Q4_0 and Q8_0 have one).
     */
    public static long packedBytes(GgmlType t, long d, int n) {
        return LIB == null ? 0 : LIB.packedBytes(t.id, d, n);
    }

    /**
     * Zero-filled off-heap memory for a packed matrix (anonymous pages, 2 MiB pages where the OS allows), given back
     * to the OS when {@code arena} closes or, for an automatic arena, when the segment is no longer reachable.
     */
    public static MemorySegment allocatePacked(long bytes, Arena arena) {
        MemorySegment p = LIB.allocPacked(bytes);
        if (p.address() == 0) throw new OutOfMemoryError("native packed weights: mmap of " + bytes + " bytes failed");
        long address = p.address();
        return p.reinterpret(bytes, arena, s -> LIB.freePacked(MemorySegment.ofAddress(address), bytes));
    }

    /**
     * Packs the rows of 8-row groups {@code [g0, g1)} of w (d rows of n) into {@code dst} ({@link #packedBytes} long,
     * zeroed); group ranges let the caller pack in parallel.
     */
    public static void pack(SegmentTensor w, int n, long d, int g0, int g1, MemorySegment dst) {
        GgmlType t = w.type();
        long groups = (d + 7) / 8;
        if (packedBytes(t, d, n) == 0 || n % t.blockSize != 0 || w.size() < d * n || g0 < 0 || g0 > g1 || g1 > groups
                || dst.byteSize() < packedBytes(t, d, n)) {
            throw new IllegalArgumentException("native pack out of bounds");
        }
        LIB.pack(t.id, w.segment(), (long) n / t.blockSize * t.typeSize, d, n, g0, g1, dst);
    }

    /**
     * {@code out[outOff + t*d + i] = W[i] . token t} for the rows of 8-row groups {@code [g0, g1)} (those below d) and
     * {@code t < count}, W packed by {@link #pack}, the tokens quantized by {@link #quantize} for type t.
     */
    public static void matmulPacked(GgmlType t, MemorySegment packed, int n, int d, MemorySegment xq, long xqStride, int count,
                                    float[] out, int outOff, int g0, int g1) {
        int groups = (d + 7) / 8;
        java.util.Objects.checkFromToIndex(g0, g1, groups);
        java.util.Objects.checkFromIndexSize(outOff, (long) (count - 1) * d + d, out.length);
        if (packed.byteSize() < packedBytes(t, d, n) || packedBytes(t, d, n) == 0 || xq.byteSize() < xqStride * count
                || xqStride < quantizedBytes(t, n)) {
            throw new IllegalArgumentException("native packed matmul out of bounds");
        }
        LIB.matmulPacked(t.id, packed, n, g0, g1, d, xq, xqStride, count, MemorySegment.ofArray(out).asSlice(4L * outOff), d);
    }

    /** Bytes of one token's quantized activations for weights of this type (a multiple of 64). */
    public static long quantizedBytes(GgmlType t, int n) {
        return LIB.quantizedBytes(form(t), n);
    }

    /** Quantizes {@code count} tokens {@code x[xOff + t*n ..]} to 8 bits per block, the form type t's kernel reads. */
    public static void quantize(GgmlType t, float[] x, int xOff, int n, int count, MemorySegment xq, long xqStride) {
        java.util.Objects.checkFromIndexSize(xOff, (long) count * n, x.length);
        if (n % t.blockSize != 0 || xq.byteSize() < xqStride * count || xqStride < quantizedBytes(t, n)) {
            throw new IllegalArgumentException("native quantize out of bounds");
        }
        LIB.quantize(form(t), MemorySegment.ofArray(x).asSlice(4L * xOff), n, n, count, xq, xqStride);
    }

    /** 0: 32-element blocks with block sums (Q4_0, Q8_0); 1: 256-element blocks with 16-element sums (K-quants). */
    private static int form(GgmlType t) {
        return t.blockSize == 32 ? 0 : 1;
    }

    private static int isaOverride() {
        String forced = System.getProperty("autoglm.native.isa");
        if (forced == null || forced.isBlank()) return -1;
        int i = java.util.Arrays.asList(ISA_NAMES).indexOf(forced.trim().toLowerCase(Locale.ROOT));
        if (i < 0) throw new IllegalArgumentException("-Dautoglm.native.isa must be one of " + String.join(", ", ISA_NAMES) + ", got " + forced);
        return i;
    }

    /** The library file: the system property, or the class-path resource (extracted when it is inside a jar). */
    private static Path locate() throws IOException {
        String explicit = System.getProperty("autoglm.native.lib");
        if (explicit != null && !explicit.isBlank()) return Paths.get(explicit);
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        if (!os.contains("linux")) throw new IOException("no native kernels are built for " + os);
        arch = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch;
        };
        String resource = "native/linux-" + arch + "/" + LIB_NAME;
        URL url = NativeKernels.class.getClassLoader().getResource(resource);
        if (url == null) throw new IOException(resource + " is not on the class path (the build found no C compiler?)");
        if ("file".equals(url.getProtocol())) {
            try {
                return Paths.get(url.toURI());
            } catch (java.net.URISyntaxException e) {
                throw new IOException(e);
            }
        }
        // Inside a jar: copy to a private temporary file (written under a temporary name, then renamed), load that.
        Path dir = Files.createTempDirectory("autoglm-native");
        Path tmp = dir.resolve(LIB_NAME + ".part"), lib = dir.resolve(LIB_NAME);
        // deleteOnExit runs in reverse order of registration: the file first, then its (then empty) directory.
        dir.toFile().deleteOnExit();
        lib.toFile().deleteOnExit();
        try (InputStream in = url.openStream()) {
            Files.copy(in, tmp);
        }
        Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE);
        return lib;
    }

    /** The bound functions of one loaded library. */
    private static final class Lib {
        private final MethodHandle init, supports, quantizedBytes, quantize, matmul, packedBytes, pack, matmulPacked, allocPacked, freePacked;
        private final MethodHandle gemmSupports, gemm, gemmAmx, gemmPackedBytes, gemmPack, gemmPacked;

        Lib(Path path) {
            Linker linker = Linker.nativeLinker();
            SymbolLookup lookup = SymbolLookup.libraryLookup(path, Arena.global());
            ValueLayout.OfInt i = ValueLayout.JAVA_INT;
            ValueLayout.OfLong l = ValueLayout.JAVA_LONG;
            var a = ValueLayout.ADDRESS;
            init = linker.downcallHandle(find(lookup, "agk_init"), FunctionDescriptor.of(i, i));
            supports = linker.downcallHandle(find(lookup, "agk_supports"), FunctionDescriptor.of(i, i));
            quantizedBytes = linker.downcallHandle(find(lookup, "agk_quantized_bytes"), FunctionDescriptor.of(l, i, i));
            // critical(true): no thread-state transition (the calls are short and never block) and heap arrays
            // (x, out) passed without copies; the GC waits for the call, which is bounded by one row range.
            Linker.Option critical = Linker.Option.critical(true);
            quantize = linker.downcallHandle(find(lookup, "agk_quantize"), FunctionDescriptor.ofVoid(i, a, i, l, i, a, l), critical);
            matmul = linker.downcallHandle(find(lookup, "agk_matmul"), FunctionDescriptor.ofVoid(i, a, l, i, i, i, a, l, i, a, l), critical);
            gemmPackedBytes = linker.downcallHandle(find(lookup, "agk_kq_packed_bytes"), FunctionDescriptor.of(l, i, i, i));
            gemmPack = linker.downcallHandle(find(lookup, "agk_kq_pack"), FunctionDescriptor.ofVoid(i, i, a, l, i, a), critical);
            gemmPacked = linker.downcallHandle(find(lookup, "agk_kq_gemm_packed"), FunctionDescriptor.ofVoid(i, a, l, i, i, i, a, i, a, l), critical);
            gemmAmx = linker.downcallHandle(find(lookup, "agk_kq_gemm_amx"), FunctionDescriptor.of(i, i));
            gemmSupports = linker.downcallHandle(find(lookup, "agk_kq_gemm_supports"), FunctionDescriptor.of(i, i));
            gemm = linker.downcallHandle(find(lookup, "agk_kq_gemm"), FunctionDescriptor.ofVoid(i, a, l, i, i, i, a, l, i, a, l), critical);
            packedBytes = linker.downcallHandle(find(lookup, "agk_packed_bytes"), FunctionDescriptor.of(l, i, l, i));
            allocPacked = linker.downcallHandle(find(lookup, "agk_alloc_packed"), FunctionDescriptor.of(a, l));
            freePacked = linker.downcallHandle(find(lookup, "agk_free_packed"), FunctionDescriptor.ofVoid(a, l));
            pack = linker.downcallHandle(find(lookup, "agk_pack"), FunctionDescriptor.ofVoid(i, a, l, l, i, i, i, a), critical);
            matmulPacked = linker.downcallHandle(find(lookup, "agk_matmul_packed"), FunctionDescriptor.ofVoid(i, a, i, i, i, i, a, l, i, a, l), critical);
        }

        private static MemorySegment find(SymbolLookup lookup, String name) {
            return lookup.find(name).orElseThrow(() -> new IllegalStateException(LIB_NAME + " lacks " + name));
        }

        int init(int isa) {
            try {
                return (int) init.invokeExact(isa);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        boolean supports(int type) {
            try {
                return (int) supports.invokeExact(type) != 0;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        long quantizedBytes(int form, int n) {
            try {
                return (long) quantizedBytes.invokeExact(form, n);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        void quantize(int form, MemorySegment x, int n, long xStride, int count, MemorySegment out, long outStride) {
            try {
                quantize.invokeExact(form, x, n, xStride, count, out, outStride);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        long gemmPackedBytes(int type, int n, int count) {
            try {
                return (long) gemmPackedBytes.invokeExact(type, n, count);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        void gemmPack(int type, int n, MemorySegment xq, long xqStride, int count, MemorySegment packed) {
            try {
                gemmPack.invokeExact(type, n, xq, xqStride, count, packed);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        void gemmPacked(int type, MemorySegment w, long rowBytes, int r0, int r1, int n, MemorySegment packed, int count,
                        MemorySegment out, long outStride) {
            try {
                gemmPacked.invokeExact(type, w, rowBytes, r0, r1, n, packed, count, out, outStride);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        boolean gemmAmx(boolean on) {
            try {
                return (int) gemmAmx.invokeExact(on ? 1 : 0) != 0;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        boolean gemmSupports(int type) {
            try {
                return (int) gemmSupports.invokeExact(type) != 0;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        MemorySegment allocPacked(long bytes) {
            try {
                return (MemorySegment) allocPacked.invokeExact(bytes);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        void freePacked(MemorySegment p, long bytes) {
            try {
                freePacked.invokeExact(p, bytes);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        long packedBytes(int type, long d, int n) {
            try {
                return (long) packedBytes.invokeExact(type, d, n);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        void pack(int type, MemorySegment src, long rowBytes, long d, int n, int g0, int g1, MemorySegment dst) {
            try {
                pack.invokeExact(type, src, rowBytes, d, n, g0, g1, dst);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        void matmulPacked(int type, MemorySegment packed, int n, int g0, int g1, int d, MemorySegment xq, long xqStride, int count,
                          MemorySegment out, long outStride) {
            try {
                matmulPacked.invokeExact(type, packed, n, g0, g1, d, xq, xqStride, count, out, outStride);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        void gemm(int type, MemorySegment w, long rowBytes, int r0, int r1, int n, MemorySegment xq, long xqStride, int count,
                  MemorySegment out, long outStride) {
            try {
                gemm.invokeExact(type, w, rowBytes, r0, r1, n, xq, xqStride, count, out, outStride);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        void matmul(int type, MemorySegment w, long rowBytes, int r0, int r1, int n, MemorySegment xq, long xqStride, int count,
                    MemorySegment out, long outStride) {
            try {
                matmul.invokeExact(type, w, rowBytes, r0, r1, n, xq, xqStride, count, out, outStride);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }
    }
}
