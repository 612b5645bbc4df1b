package ai.autoglm.core.hub;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which files of a repository a model needs, so that a pull does not fetch the PyTorch {@code .bin} copies, ONNX
 * exports or {@code original/} checkpoints many repositories carry beside the safetensors:
 * <ul>
 * <li>with {@code :QUANT}: the GGUF file(s) whose name carries that quantization (all parts of a split file);</li>
 * <li>a safetensors repository: the top-level safetensors, JSON (config, index, tokenizer, generation config),
 * tokenizer models ({@code *.model}, {@code *.tiktoken}, {@code *.txt} vocabularies, {@code *.jinja} templates)
 * and {@code *.py} (the tokenizer code remote-code GLM repositories keep beside their vocabulary);</li>
 * <li>a GGUF-only repository without {@code :QUANT}: Q4_K_M when present (llama.cpp's usual default), else an
 * error naming the quantizations there are.</li>
 * </ul>
 */
final class FileSelection {
    private static final Pattern QUANT_IN_NAME = Pattern.compile("(?i)(?:^|[-_.])(I?Q\\d(?:_[A-Z0-9]+)*|BF16|F16|F32)(?=[-.]|$)");
    private static final List<String> SAFETENSORS_SIDE = List.of(".json", ".safetensors", ".model", ".tiktoken", ".txt", ".jinja", ".py");

    private FileSelection() {
    }

    static List<RemoteFile> select(ModelRef ref, RepoListing listing) throws HubException {
        List<RemoteFile> all = listing.files();
        List<RemoteFile> gguf = all.stream().filter(f -> f.name().toLowerCase(Locale.ROOT).endsWith(".gguf")).toList();
        if (ref.quant() != null) {
            String q = ref.quant().toUpperCase(Locale.ROOT);
            List<RemoteFile> hit = gguf.stream().filter(f -> quantOf(f.name()).equals(q)).toList();
            if (hit.isEmpty()) throw new HubException(ref.repo() + " has no GGUF file for :" + ref.quant() + "; it has: " + quants(gguf));
            return hit;
        }
        boolean safetensors = all.stream().anyMatch(f -> f.name().endsWith(".safetensors") && !f.name().contains("/"));
        if (safetensors) {
            List<RemoteFile> out = new ArrayList<>();
            for (RemoteFile f : all) {
                String n = f.name().toLowerCase(Locale.ROOT);
                if (!f.name().contains("/") && SAFETENSORS_SIDE.stream().anyMatch(n::endsWith)) out.add(f);
            }
            return out;
        }
        if (!gguf.isEmpty()) {
            List<RemoteFile> def = gguf.stream().filter(f -> quantOf(f.name()).equals("Q4_K_M")).toList();
            if (!def.isEmpty()) return def;
            throw new HubException(ref.repo() + " holds several GGUF files; choose one with " + ref.repo() + ":QUANT, one of " + quants(gguf));
        }
        if (all.stream().anyMatch(f -> f.name().endsWith(".bin") || f.name().endsWith(".pth"))) {
            throw new HubException(ref.repo() + " has only PyTorch pickle weights (.bin/.pth); this engine reads safetensors and GGUF "
                    + "(pickles can run code when loaded, so they are not read)");
        }
        throw new HubException(ref.repo() + " has neither safetensors nor GGUF weights");
    }

    /** The quantization a GGUF file name carries ("Q4_K_M" of "qwen2.5-0.5b-instruct-q4_k_m.gguf"), or "". */
    static String quantOf(String name) {
        String base = name.substring(name.lastIndexOf('/') + 1).replaceFirst("(?i)-\\d{5}-of-\\d{5}\\.gguf$", ".gguf");
        base = base.replaceFirst("(?i)\\.gguf$", "");
        Matcher m = QUANT_IN_NAME.matcher(base);
        String q = "";
        while (m.find()) q = m.group(1);
        return q.toUpperCase(Locale.ROOT);
    }

    private static String quants(List<RemoteFile> gguf) {
        TreeSet<String> s = new TreeSet<>();
        for (RemoteFile f : gguf) if (!quantOf(f.name()).isEmpty()) s.add(quantOf(f.name()));
        return s.isEmpty() ? "(none)" : String.join(", ", s);
    }
}
