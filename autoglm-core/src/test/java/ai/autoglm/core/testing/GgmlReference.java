package ai.autoglm.core.testing;

import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.LlamaCppReference;
import ai.autoglm.core.testing.NodeScript;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * ggml's own quantizer as the reference: {@code ggml_quantize_chunk(type, src, dst, start, nrows, n_per_row,
 * imatrix)} (ggml/src/ggml.c), the function llama-quantize calls for every tensor, called through FFM in the
 * prebuilt {@code libggml-base.so} that the npm package {@code @node-llama-cpp/linux-x64} ships (installed by
 * {@code npm ci} in {@code autoglm-core/src/test/llamacpp}, see {@link LlamaCppReference}). Nothing is built.
 * That library is compiled without FMA instructions, so float results are reproducible operation for operation.
 */
public final class GgmlReference {
    private static MethodHandle quantizeChunk;

    private GgmlReference() {
    }

    private static synchronized MethodHandle handle() {
        if (quantizeChunk != null) return quantizeChunk;
        Path project = LlamaCppReference.project();
        NodeScript.requirePackage(project, "@node-llama-cpp/linux-x64");
        Path lib = project.resolve("node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so");
        if (!Files.isRegularFile(lib)) fail("no " + lib + "; run: cd " + project + " && npm ci");
        SymbolLookup lookup = SymbolLookup.libraryLookup(lib, Arena.global());
        quantizeChunk = Linker.nativeLinker().downcallHandle(lookup.find("ggml_quantize_chunk").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
        return quantizeChunk;
    }

    /** ggml's bytes for {@code values} (rows of {@code rowLength}) in {@code type}, with {@code imatrix} or null. */
    public static byte[] quantize(GgmlType type, float[] values, int rowLength, float[] imatrix) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocateFrom(ValueLayout.JAVA_FLOAT, values);
            long bytes = type.bytesFor(values.length);
            MemorySegment dst = arena.allocate(bytes, 64);
            MemorySegment qw = imatrix == null ? MemorySegment.NULL : arena.allocateFrom(ValueLayout.JAVA_FLOAT, imatrix);
            long written = (long) handle().invokeExact(type.id, src, dst, 0L, (long) (values.length / rowLength), (long) rowLength, qw);
            if (written != bytes) fail("ggml_quantize_chunk wrote " + written + " bytes, expected " + bytes);
            return dst.toArray(ValueLayout.JAVA_BYTE);
        } catch (Throwable t) {
            if (t instanceof Error e) throw e;
            throw new IllegalStateException("ggml_quantize_chunk failed", t);
        }
    }
}
