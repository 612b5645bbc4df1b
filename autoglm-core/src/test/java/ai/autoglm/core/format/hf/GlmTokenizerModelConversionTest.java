package ai.autoglm.core.format.hf;

import ai.autoglm.core.convert.HfToGgufConverter;
import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.gguf.GgufFile;
import ai.autoglm.core.generate.Prompts;
import ai.autoglm.core.model.LanguageModel;
import ai.autoglm.core.model.ModelLoader;
import ai.autoglm.core.tensor.GgmlType;
import ai.autoglm.core.testing.GlmFixtures;
import ai.autoglm.core.testing.GlmFixtures.Layout;
import ai.autoglm.core.testing.GlmFixtures.Spec;
import ai.autoglm.core.testing.GlmReferenceForward;
import ai.autoglm.core.testing.GlmTokenizerFiles;
import ai.autoglm.core.testing.ModelFixtures;
import ai.autoglm.core.testing.SentencePieceProto;
import ai.autoglm.core.tokenizer.ChatMessage;
import ai.autoglm.core.tokenizer.Tokenizer;
import ai.autoglm.core.tokenizer.TokenizerCorpus;
import ai.autoglm.core.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code convert} on remote-code GLM directories whose only tokenizer file is {@code tokenizer.model}. The expected
 * GGUF vocabulary is written out here from llama.cpp's convert_hf_to_gguf.py (ChatGLMModel.set_vocab for GLM-4's
 * tiktoken file, set_vocab_chatglm3 for ChatGLM3's SentencePiece file) over the fixture's own vocabulary, not taken
 * from the converter; the converted file must then tokenize like the HF directory and give the same logits, which
 * must be those of the reference forward pass.
 */
class GlmTokenizerModelConversionTest {
    @TempDir
    Path tmp;

    @Test
    void glm4TiktokenDirectoryConvertsAsChatGlmModelSetVocab() throws Exception {
        Spec s = GlmFixtures.glm4_9b();
        Path dir = GlmTokenizerFiles.writeGlm4Tiktoken(s, tmp.resolve("glm4"));
        Path out = tmp.resolve("glm4.gguf");
        HfToGgufConverter.convert(dir, out, GgmlType.F32);

        // tokens: the ranks as byte-level strings, then the added tokens, then [PADi]; NORMAL / CONTROL / UNUSED
        List<String> tokens = new ArrayList<>(ModelFixtures.TOKENS.subList(0, ModelFixtures.FIRST_SPECIAL));
        tokens.addAll(GlmTokenizerFiles.GLM4_SPECIALS);
        List<Long> types = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) types.add(i < ModelFixtures.FIRST_SPECIAL ? 1L : 3L);
        for (int i = tokens.size(); i < s.paddedVocab(); i++) {
            tokens.add("[PAD" + i + "]");
            types.add(5L);
        }
        try (GgufFile g = GgufFile.open(out)) {
            assertThat(g.getString("tokenizer.ggml.model", null)).isEqualTo("gpt2");
            assertThat(g.getString("tokenizer.ggml.pre", null)).isEqualTo("chatglm-bpe");
            assertThat(g.metadata().get("tokenizer.ggml.tokens").asList()).isEqualTo(new ArrayList<Object>(tokens));
            assertThat(g.metadata().get("tokenizer.ggml.token_type").asList().stream().map(o -> ((Number) o).longValue()).toList())
                    .isEqualTo(types);
            // the ranks were made from these merges (each token of rank r is one merge of two lower ranks), so
            // replaying BPE per token must give them back in rank order
            assertThat(g.metadata().get("tokenizer.ggml.merges").asList()).isEqualTo(new ArrayList<Object>(ModelFixtures.MERGES));
            assertThat(g.metadata()).doesNotContainKey("tokenizer.ggml.scores").doesNotContainKey("tokenizer.ggml.bos_token_id");
            // eos/eot/unk from the added vocab (_set_special_token after config.json: its eos list is not an int),
            // pad from config.json pad_token_id
            assertThat(g.metadata().get("tokenizer.ggml.eos_token_id").asLong()).isEqualTo(GlmFixtures.ENDOFTEXT_ID);
            assertThat(g.metadata().get("tokenizer.ggml.eot_token_id").asLong()).isEqualTo(GlmFixtures.USER_ID);
            assertThat(g.metadata().get("tokenizer.ggml.unknown_token_id").asLong()).isEqualTo(GlmFixtures.ENDOFTEXT_ID);
            assertThat(g.metadata().get("tokenizer.ggml.padding_token_id").asLong()).isEqualTo(GlmFixtures.ENDOFTEXT_ID);
            assertThat(g.metadata().get("tokenizer.ggml.add_bos_token").value()).isEqualTo(false);
            assertThat(g.getString("tokenizer.chat_template", null)).isEqualTo(GlmTokenizerFiles.chatTemplate("glm-4-9b-chat"));
        }
        assertSameTokensAndLogits(s, dir, out, TokenizerCorpus.all());
    }

    @Test
    void chatglm3SentencePieceDirectoryConvertsAsSetVocabChatglm3() throws Exception {
        Spec s = GlmTokenizerFiles.chatglm3Spm();
        Path dir = GlmTokenizerFiles.writeChatglm3SentencePiece(s, tmp.resolve("chatglm3"));
        Path out = tmp.resolve("chatglm3.gguf");
        HfToGgufConverter.convert(dir, out, GgmlType.F32);

        List<SentencePieceProto.P> pieces = SentencePieceProto.chatglm3StylePieces();
        List<String> specials = List.of("[MASK]", "[gMASK]", "[sMASK]", "sop", "eop", "<|system|>", "<|user|>",
                "<|assistant|>", "<|observation|>");
        List<Object> tokens = new ArrayList<>();
        List<Object> scores = new ArrayList<>();
        List<Long> types = new ArrayList<>();
        for (int id = 0; id < s.paddedVocab(); id++) {
            if (id < pieces.size()) {
                SentencePieceProto.P p = pieces.get(id);
                tokens.add(id == 0 ? "<unk>" : id == 1 ? "<bos>" : id == 2 ? "<eos>" : p.piece());
                scores.add(p.score());
                types.add((long) p.type()); // UNKNOWN 2, CONTROL 3, BYTE 6, NORMAL 1: sentencepiece's and GGUF's agree
            } else if (id < pieces.size() + specials.size()) {
                tokens.add(specials.get(id - pieces.size()));
                scores.add(0f);
                types.add(3L);
            } else {
                tokens.add("[PAD" + id + "]");
                scores.add(0f);
                types.add(5L);
            }
        }
        try (GgufFile g = GgufFile.open(out)) {
            assertThat(g.getString("tokenizer.ggml.model", null)).isEqualTo("llama");
            assertThat(g.getString("tokenizer.ggml.pre", null)).isEqualTo("chatglm-spm");
            assertThat(g.metadata().get("tokenizer.ggml.tokens").asList()).isEqualTo(tokens);
            assertThat(g.metadata().get("tokenizer.ggml.scores").asList()).isEqualTo(scores);
            assertThat(g.metadata().get("tokenizer.ggml.token_type").asList().stream().map(o -> ((Number) o).longValue()).toList())
                    .isEqualTo(types);
            assertThat(g.metadata()).doesNotContainKey("tokenizer.ggml.merges").doesNotContainKey("tokenizer.ggml.eot_token_id");
            // SpecialVocab: config.json eos_token_id 2, pad_token_id 0
            assertThat(g.metadata().get("tokenizer.ggml.eos_token_id").asLong()).isEqualTo(2);
            assertThat(g.metadata().get("tokenizer.ggml.padding_token_id").asLong()).isEqualTo(0);
            assertThat(g.metadata().get("tokenizer.ggml.add_bos_token").value()).isEqualTo(false);
            assertThat(g.getString("tokenizer.chat_template", null)).isEqualTo(GlmTokenizerFiles.chatTemplate("chatglm3-6b"));
        }
        // Known differences, kept out of the corpus: the GGUF names ids 1 and 2 "<bos>"/"<eos>" (the HF side reads
        // "<s>"/"</s>" as control text), and llama.cpp matches the control tokens "sop"/"eop" inside words such as
        // "isopropyl" where ChatGLMTokenizer matches them only as whole words.
        List<String> corpus = new ArrayList<>(TokenizerCorpus.all().stream().filter(t -> !t.contains("<s>") && !t.contains("</s>")
                && !t.contains("sop") && !t.contains("eop")).toList());
        corpus.addAll(List.of("abc bca 你好", "  a  b ", "so iso pro pyl", "[gMASK]sop<|user|>\n 你好<|assistant|>"));
        assertSameTokensAndLogits(s, dir, out, corpus);
    }

    /**
     * The HF directory and the converted GGUF: the same ids for every text (special tokens parsed and not), the same
     * prompt prefix and chat prompt, and the same logits, which are the reference forward pass's.
     */
    private static void assertSameTokensAndLogits(Spec s, Path dir, Path gguf, List<String> corpus) {
        try (LanguageModel hf = ModelLoader.load(dir); LanguageModel conv = ModelLoader.load(gguf)) {
            Tokenizer a = hf.tokenizer();
            Tokenizer b = conv.tokenizer();
            for (String text : corpus) {
                for (boolean special : new boolean[]{true, false}) {
                    assertThat(b.encode(text, special)).as("encode(%s, %s)", text, special).containsExactly(a.encode(text, special));
                }
            }
            assertThat(a.prefixTokens()).hasSize(2).containsExactly(b.prefixTokens());
            List<ChatMessage> chat = List.of(ChatMessage.system("You are terse."), ChatMessage.user("你好 abc"));
            int[] prompt = Prompts.chat(hf, chat, true, null);
            assertThat(Prompts.chat(conv, chat, true, null)).containsExactly(prompt);
            assertThat(prompt).startsWith(a.prefixTokens()); // written once, by the template
            assertThat(java.util.Arrays.copyOfRange(prompt, 2, 4)).doesNotContain(a.prefixTokens()[0]);

            double[][] ref = new GlmReferenceForward(s, Layout.CHATGLM_REMOTE,
                    GlmFixtures.hfTensors(s, Layout.CHATGLM_REMOTE, GlmFixtures.weights(s)), prompt.length).run(prompt);
            float[] la = hf.forward(hf.newState(prompt.length), prompt, 0, prompt.length, true);
            float[] lb = conv.forward(conv.newState(prompt.length), prompt, 0, prompt.length, true);
            int v = s.paddedVocab();
            assertThat(lb).hasSize(la.length);
            for (int t = 0; t < prompt.length; t++) {
                double max = 0, diffRef = 0, diffPair = 0;
                for (int i = 0; i < v; i++) {
                    max = Math.max(max, Math.abs(ref[t][i]));
                    diffRef = Math.max(diffRef, Math.abs(la[t * v + i] - ref[t][i]));
                    diffPair = Math.max(diffPair, Math.abs(la[t * v + i] - lb[t * v + i]));
                }
                assertThat(diffRef / max).as("HF dir vs reference at %d", t).isLessThan(1e-4);
                assertThat(diffPair / max).as("GGUF vs HF dir at %d", t).isLessThan(1e-5);
            }
        }
    }

    @Test
    void mergesAreRecoveredByReplayingBpeUpToEachRank() {
        // A plain case and GLM-4's irregular one: "xyz" has no lower-ranked pair, so its line keeps three parts.
        TreeMap<Integer, byte[]> ranks = new TreeMap<>();
        for (int b = 0; b < 256; b++) ranks.put(b, new byte[]{(byte) b});
        ranks.put(256, "ab".getBytes(StandardCharsets.US_ASCII));
        ranks.put(257, "cd".getBytes(StandardCharsets.US_ASCII));
        ranks.put(258, "abcd".getBytes(StandardCharsets.US_ASCII));
        ranks.put(259, "xyz".getBytes(StandardCharsets.US_ASCII));
        ranks.put(260, " a".getBytes(StandardCharsets.US_ASCII));
        ranks.put(261, "b c".getBytes(StandardCharsets.US_ASCII)); // "bc" is no rank: b, then " c"? neither exists
        assertThat(GlmTokenizerModelVocab.recoverMerges(ranks, Path.of("t")))
                .containsExactly("a b", "c d", "ab cd", "x y z", "\u0120 a", "b \u0120 c");
        ranks.put(262, "12345678".getBytes(StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> GlmTokenizerModelVocab.recoverMerges(ranks, Path.of("t")))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("rank 262").hasMessageContaining("8 parts");
    }

    @Test
    void tokenizerModelAloneIsRefusedOutsideGlmAndForBadFiles() throws Exception {
        Path llama = ModelFixtures.writeHf(ModelFixtures.llama(), tmp.resolve("llama"));
        Files.delete(llama.resolve("tokenizer.json"));
        Files.writeString(llama.resolve("tokenizer.model"), GlmTokenizerFiles.tiktokenRanks());
        assertThatThrownBy(() -> HfToGgufConverter.convert(llama, tmp.resolve("x.gguf"), GgmlType.F32))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("tokenizer.json")
                .hasMessageContaining("GLM remote-code");

        Spec s = GlmFixtures.glm4_9b();
        Path small = GlmTokenizerFiles.writeGlm4Tiktoken(s, tmp.resolve("small"));
        var cfg = GlmFixtures.hfConfig(s, Layout.CHATGLM_REMOTE);
        cfg.put("padded_vocab_size", ModelFixtures.FIRST_SPECIAL + 5); // the specials do not fit
        new com.fasterxml.jackson.databind.ObjectMapper().writeValue(small.resolve("config.json").toFile(), cfg);
        assertThatThrownBy(() -> HfToGgufConverter.convert(small, tmp.resolve("y.gguf"), GgmlType.F32))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("padded_vocab_size");
        Files.writeString(small.resolve("tokenizer.model"), "YQ== 0\n");
        assertThatThrownBy(() -> HfToGgufConverter.convert(small, tmp.resolve("z.gguf"), GgmlType.F32))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("tokenizer.model").hasMessageContaining("single byte");
        assertThat(Files.exists(tmp.resolve("x.gguf")) || Files.exists(tmp.resolve("y.gguf")) || Files.exists(tmp.resolve("z.gguf"))).isFalse();
    }
}
