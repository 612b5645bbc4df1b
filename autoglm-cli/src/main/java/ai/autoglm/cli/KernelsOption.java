package ai.autoglm.cli;

import ai.autoglm.core.tensor.KernelChoice;
import picocli.CommandLine.Option;

/** {@code --kernels auto|java|native}: which matrix-product kernels run (see docs/speed.md, "Native kernels"). */
final class KernelsOption {
    @Option(names = "--kernels", paramLabel = "K",
            description = "Matrix-product kernels: auto (native where the library loaded and has the type, else Java), java (pure Java), native (fail if the native library is unavailable). Default: auto, or -Dautoglm.kernels.")
    String kernels;

    /** Sets {@link KernelChoice} when {@code --kernels} was given; call before computing. */
    void apply() {
        if (kernels != null) KernelChoice.set(KernelChoice.parse(kernels));
    }
}
