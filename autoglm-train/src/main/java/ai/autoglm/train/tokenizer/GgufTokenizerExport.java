package ai.autoglm.train.tokenizer;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.format.gguf.GgufKeys;
import ai.autoglm.core.format.gguf.GgufValue;
import ai.autoglm.core.tokenizer.ByteLevelBpeJson;
import ai.autoglm.train.AtomicWrites;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Writes the byte-level BPE vocabulary of a GGUF file back as {@code tokenizer.json} + {@code tokenizer_config.json},
 * the inverse of core's HfTokenizerToGguf for the vocabularies this project trains (and llama.cpp's GLM-4 / Llama 3
 * ones): {@code tokenizer.ggml.model = gpt2}, a pre-tokenizer whose split regex is GLM-4's (= Llama 3's), the
 * learned tokens first and the special tokens (types CONTROL / USER_DEFINED, gguf-py TokenType) after them. A model
 * trained from such a GGUF (a distilled student) can then be written as a Hugging Face directory.
 */
public final class GgufTokenizerExport {
    /** llama.cpp pre-tokenizer names whose split regex is {@link BpeTrainer#SPLIT_REGEX} (llama-vocab.cpp). */
    private static final Set<String> GLM4_REGEX_PRE = Set.of("glm4", "chatglm-bpe", "llama-bpe", "llama3");
    private static final int CONTROL = 3, USER_DEFINED = 4;
    private static final ObjectMapper JSON = new ObjectMapper();

    private GgufTokenizerExport() {
    }

    public static void write(Path gguf, int contextLength, Path dir) {
        try (GgufFile f = GgufFile.open(gguf)) {
            String model = f.getString(GgufKeys.TOKENIZER_MODEL, "");
            String pre = f.getString(GgufKeys.TOKENIZER_PRE, "default");
            if (!model.equals("gpt2") || !GLM4_REGEX_PRE.contains(pre)) {
                throw new ModelFormatException(gguf, "its tokenizer (tokenizer.ggml.model '" + model + "', pre '" + pre
                        + "') cannot be written as tokenizer.json here (only byte-level BPE with the GLM-4/Llama-3 split: pre "
                        + GLM4_REGEX_PRE + "); give the teacher's tokenizer directory with --tokenizer");
            }
            List<String> tokens = f.metadata().get(GgufKeys.TOKENIZER_TOKENS).asStringList();
            GgufValue typeValue = f.metadata().get(GgufKeys.TOKENIZER_TOKEN_TYPE);
            GgufValue mergeValue = f.metadata().get(GgufKeys.TOKENIZER_MERGES);
            if (typeValue == null || mergeValue == null) throw new ModelFormatException(gguf, "no tokenizer.ggml.token_type or tokenizer.ggml.merges");
            List<Object> types = typeValue.asList();
            int firstSpecial = tokens.size();
            while (firstSpecial > 0 && isSpecial(types.get(firstSpecial - 1))) firstSpecial--;
            for (int i = 0; i < firstSpecial; i++) {
                if (isSpecial(types.get(i))) {
                    throw new ModelFormatException(gguf, "special token " + i + " '" + tokens.get(i) + "' sits inside the learned vocabulary; "
                            + "give the teacher's tokenizer directory with --tokenizer");
                }
            }
            List<String[]> merges = new ArrayList<>();
            for (String m : mergeValue.asStringList()) {
                int sp = m.indexOf(' ');
                if (sp <= 0) throw new ModelFormatException(gguf, "merge '" + m + "' is not two symbols separated by a space");
                merges.add(new String[]{m.substring(0, sp), m.substring(sp + 1)});
            }
            ObjectNode json = ByteLevelBpeJson.tokenizerJson(BpeTrainer.SPLIT_REGEX, tokens.subList(0, firstSpecial), merges,
                    tokens.subList(firstSpecial, tokens.size()), firstSpecial);
            ObjectNode config = JSON.createObjectNode();
            config.put("tokenizer_class", "PreTrainedTokenizerFast");
            long eos = f.getLong(GgufKeys.TOKENIZER_EOS_ID, -1);
            if (eos >= 0 && eos < tokens.size()) {
                config.put("eos_token", tokens.get((int) eos));
                config.put("pad_token", tokens.get((int) eos));
            }
            long bos = f.getLong(GgufKeys.TOKENIZER_BOS_ID, -1);
            boolean addBos = f.getBoolean(GgufKeys.TOKENIZER_ADD_BOS, false);
            if (bos >= 0 && bos < tokens.size() && addBos) config.put("bos_token", tokens.get((int) bos));
            config.put("add_bos_token", addBos);
            config.put("clean_up_tokenization_spaces", false);
            config.put("model_max_length", contextLength);
            String template = f.getString(GgufKeys.CHAT_TEMPLATE, null);
            if (template != null) config.put("chat_template", template);
            Files.createDirectories(dir);
            AtomicWrites.writeBytes(dir.resolve("tokenizer.json"), JSON.writeValueAsBytes(json));
            AtomicWrites.writeBytes(dir.resolve("tokenizer_config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(config));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the tokenizer to " + dir + ": " + e.getMessage(), e);
        }
    }

    private static boolean isSpecial(Object type) {
        int t = ((Number) type).intValue();
        return t == CONTROL || t == USER_DEFINED;
    }
}
