package ai.autoglm.core.format.peft;

import ai.autoglm.core.format.ModelFormatException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The fields of PEFT's {@code adapter_config.json} for a LoRA adapter (peft {@code tuners/lora/config.py}
 * {@code LoraConfig}, serialised by {@code PeftConfigMixin.save_pretrained} as a flat JSON object).
 *
 * @param r                    rank (the default of modules not in {@code rankPattern})
 * @param loraAlpha            alpha (the default of modules not in {@code alphaPattern})
 * @param targetModules        module name suffixes the adapter was made for (a list; a regex string is kept as one entry)
 * @param loraDropout          dropout during training (no effect at inference)
 * @param bias                 {@code none}, {@code all} or {@code lora_only}
 * @param fanInFanOut          whether the base weights are stored transposed (GPT-2 Conv1D)
 * @param useRslora            rank-stabilized scaling {@code alpha / sqrt(r)} (Kalajdzievski 2023) instead of {@code alpha / r}
 * @param useDora              weight-decomposed LoRA (not supported here, refused on load)
 * @param baseModelNameOrPath  the base model it was trained on
 * @param taskType             e.g. {@code CAUSAL_LM}
 * @param peftType             {@code LORA}
 * @param rankPattern          per-module rank overrides (key: module name suffix or regex)
 * @param alphaPattern         per-module alpha overrides
 * @param modulesToSave        modules saved whole besides the adapter (not supported: refused on load)
 */
public record LoraConfig(int r, double loraAlpha, List<String> targetModules, double loraDropout, String bias,
                         boolean fanInFanOut, boolean useRslora, boolean useDora, String baseModelNameOrPath,
                         String taskType, String peftType, Map<String, Integer> rankPattern,
                         Map<String, Double> alphaPattern, List<String> modulesToSave) {

    public static final String FILE_NAME = "adapter_config.json";

    /** A plain LoRA config as {@code autoglm finetune} writes it. */
    public static LoraConfig of(int r, double alpha, List<String> targetModules, String baseModel) {
        return new LoraConfig(r, alpha, targetModules, 0.0, "none", false, false, false, baseModel, "CAUSAL_LM", "LORA",
                Map.of(), Map.of(), List.of());
    }

    /**
     * peft {@code utils/other.py get_pattern_key}: the pattern key whose regex {@code (.*\.)?key$} matches the module
     * name (the first such), or null.
     */
    private static String patternKey(Iterable<String> keys, String module) {
        for (String key : keys) {
            if (Pattern.compile("(.*\\.)?(" + key + ")$").matcher(module).matches()) return key;
        }
        return null;
    }

    /** The rank adapter_config.json declares for {@code module}. */
    public int rankOf(String module) {
        String k = patternKey(rankPattern.keySet(), module);
        return k == null ? r : rankPattern.get(k);
    }

    /**
     * peft {@code LoraLayer.update_layer}: {@code scaling = lora_alpha / sqrt(r)} with use_rslora, else {@code lora_alpha / r},
     * with the module's alpha and rank from the patterns.
     */
    public double scaleOf(String module) {
        String k = patternKey(alphaPattern.keySet(), module);
        double alpha = k == null ? loraAlpha : alphaPattern.get(k);
        int rank = rankOf(module);
        return useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
    }

    // ---------------------------------------------------------------------------------------------- JSON

    /** Parses adapter_config.json; errors name the file and the field. */
    public static LoraConfig parse(Path file, JsonNode root) {
        if (root == null || !root.isObject()) throw new ModelFormatException(file, "is not a JSON object");
        String peftType = text(root, "peft_type", "LORA");
        if (!peftType.equals("LORA")) throw new ModelFormatException(file, "peft_type is " + peftType + "; only LORA adapters are supported");
        int r = integer(file, root, "r", 8);
        if (r < 1) throw new ModelFormatException(file, "r must be at least 1, got " + r);
        double alpha = number(file, root, "lora_alpha", 8);
        List<String> targets = new ArrayList<>();
        JsonNode t = root.get("target_modules");
        if (t != null && t.isArray()) t.forEach(e -> targets.add(e.asText()));
        else if (t != null && t.isTextual()) targets.add(t.asText());
        Map<String, Integer> rankPattern = new LinkedHashMap<>();
        JsonNode rp = root.get("rank_pattern");
        if (rp != null && rp.isObject()) {
            rp.properties().forEach(e -> {
                if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 1) {
                    throw new ModelFormatException(file, "rank_pattern." + e.getKey() + " must be a positive integer");
                }
                rankPattern.put(e.getKey(), e.getValue().asInt());
            });
        }
        Map<String, Double> alphaPattern = new LinkedHashMap<>();
        JsonNode ap = root.get("alpha_pattern");
        if (ap != null && ap.isObject()) {
            ap.properties().forEach(e -> {
                if (!e.getValue().isNumber()) throw new ModelFormatException(file, "alpha_pattern." + e.getKey() + " must be a number");
                alphaPattern.put(e.getKey(), e.getValue().asDouble());
            });
        }
        List<String> toSave = new ArrayList<>();
        JsonNode ms = root.get("modules_to_save");
        if (ms != null && ms.isArray()) ms.forEach(e -> toSave.add(e.asText()));
        return new LoraConfig(r, alpha, List.copyOf(targets), number(file, root, "lora_dropout", 0), text(root, "bias", "none"),
                root.path("fan_in_fan_out").asBoolean(false), root.path("use_rslora").asBoolean(false),
                root.path("use_dora").asBoolean(false), text(root, "base_model_name_or_path", null),
                text(root, "task_type", null), peftType, Map.copyOf(rankPattern), Map.copyOf(alphaPattern), List.copyOf(toSave));
    }

    /** The JSON peft writes (the same keys, so peft's {@code LoraConfig.from_pretrained} reads it back). */
    public ObjectNode toJson(ObjectMapper mapper) {
        ObjectNode o = mapper.createObjectNode();
        ObjectNode ap = o.putObject("alpha_pattern");
        alphaPattern.forEach(ap::put);
        o.put("base_model_name_or_path", baseModelNameOrPath);
        o.put("bias", bias);
        o.put("fan_in_fan_out", fanInFanOut);
        o.put("inference_mode", true);
        o.put("init_lora_weights", true);
        if (loraAlpha == Math.rint(loraAlpha) && Math.abs(loraAlpha) < 1e15) o.put("lora_alpha", (long) loraAlpha); // peft writes an int
        else o.put("lora_alpha", loraAlpha);
        o.put("lora_dropout", loraDropout);
        if (modulesToSave.isEmpty()) o.putNull("modules_to_save");
        else modulesToSave.forEach(o.putArray("modules_to_save")::add);
        o.put("peft_type", peftType);
        o.put("r", r);
        ObjectNode rp = o.putObject("rank_pattern");
        rankPattern.forEach(rp::put);
        targetModules.forEach(o.putArray("target_modules")::add);
        o.put("task_type", taskType);
        o.put("use_dora", useDora);
        o.put("use_rslora", useRslora);
        return o;
    }

    private static String text(JsonNode root, String key, String def) {
        JsonNode v = root.get(key);
        return v == null || v.isNull() ? def : v.asText();
    }

    private static int integer(Path file, JsonNode root, String key, int def) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return def;
        if (!v.canConvertToInt() || !v.isIntegralNumber()) throw new ModelFormatException(file, key + " must be an integer, got " + v);
        return v.asInt();
    }

    private static double number(Path file, JsonNode root, String key, double def) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return def;
        if (!v.isNumber()) throw new ModelFormatException(file, key + " must be a number, got " + v);
        return v.asDouble();
    }
}
