package ai.autoglm.core.tokenizer;

import ai.autoglm.core.format.ModelFormatException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Builds a {@link BpeTokenizer} from a Hugging Face {@code tokenizer.json} (the tokenizers library's
 * serialization: model, normalizer, pre_tokenizer, decoder, added_tokens) and {@code tokenizer_config.json}
 * (bos/eos token strings, add_bos_token). Supports the BPE models real causal LMs ship: byte-level (ByteLevel
 * pre-tokenizer/decoder, optionally after a Split regex) and SentencePiece-style (Prepend/Replace normalizer or
 * Metaspace pre-tokenizer, ByteFallback decoder). Anything else is refused with a {@link ModelFormatException}
 * rather than tokenized differently from the reference.
 */
final class HfTokenizerLoader {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Upper bound on ids, so a hostile file cannot make us allocate gigabytes for the id → token table. */
    private static final int MAX_VOCAB = 16 * 1024 * 1024;

    private final Path file;

    private HfTokenizerLoader(Path file) {
        this.file = file;
    }

    static Tokenizer load(Path dir) {
        Path tj = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tj)) {
            throw new ModelFormatException(dir, "no tokenizer.json in this directory");
        }
        Path cfgPath = dir.resolve("tokenizer_config.json");
        JsonNode cfg = Files.isRegularFile(cfgPath) ? read(cfgPath) : JSON.createObjectNode();
        return new HfTokenizerLoader(tj).build(read(tj), cfg);
    }

    /** A tokenizer.json under any name (e.g. inside a jar, extracted), without tokenizer_config.json. */
    static Tokenizer loadFile(Path tokenizerJson) {
        return new HfTokenizerLoader(tokenizerJson).build(read(tokenizerJson), JSON.createObjectNode());
    }

    /** tokenizer.json content already in memory; {@code name} is used in error messages. */
    static Tokenizer loadBytes(Path name, byte[] json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new ModelFormatException(name, "cannot read JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(name, "not a JSON object");
        }
        return new HfTokenizerLoader(name).build(root, JSON.createObjectNode());
    }

    /** Real tokenizer.json files are up to ~35 MB; refuse absurd sizes before reading them into memory. */
    private static final long MAX_JSON_BYTES = 512L * 1024 * 1024;

    /** Reads a JSON object file (tokenizer.json, tokenizer_config.json) with a size cap and file-naming errors. */
    static JsonNode read(Path p) {
        try {
            if (Files.size(p) > MAX_JSON_BYTES) {
                throw new ModelFormatException(p, "file is " + Files.size(p) + " bytes, more than any tokenizer file ("
                        + MAX_JSON_BYTES + ")");
            }
            JsonNode n = JSON.readTree(ai.autoglm.core.format.LoadedFiles.readAllBytes(p));
            if (n == null || !n.isObject()) {
                throw new ModelFormatException(p, "not a JSON object");
            }
            return n;
        } catch (IOException | RuntimeException e) {
            if (e instanceof ModelFormatException || e instanceof ai.autoglm.core.format.LoadedFiles.Refused) {
                throw (RuntimeException) e;
            }
            throw new ModelFormatException(p, "cannot read JSON: " + e.getMessage(), e);
        }
    }

    private ModelFormatException bad(String problem) {
        return new ModelFormatException(file, problem);
    }

    private Tokenizer build(JsonNode root, JsonNode cfg) {
        JsonNode model = root.path("model");
        String type = model.path("type").asText("BPE");
        if ("WordPiece".equals(type)) {
            return WordPieceLoader.fromTokenizerJson(file, root);
        }
        if (!"BPE".equals(type) || !model.has("vocab") || !model.has("merges")) {
            throw bad("unsupported tokenizer model '" + type + "' (supported: BPE, WordPiece)");
        }
        if (!model.path("continuing_subword_prefix").asText("").isEmpty()
                || !model.path("end_of_word_suffix").asText("").isEmpty()) {
            throw bad("BPE continuing_subword_prefix / end_of_word_suffix are not supported");
        }

        // Vocabulary of the model, then added tokens on top (they may reuse model ids, as Llama 2's <s> does).
        Map<String, Integer> modelVocab = new HashMap<>();
        int maxId = -1;
        JsonNode vocab = model.get("vocab");
        if (!vocab.isObject()) {
            throw bad("model.vocab is not an object");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id = checkId(e.getValue(), "model.vocab['" + e.getKey() + "']");
            modelVocab.put(e.getKey(), id);
            maxId = Math.max(maxId, id);
        }
        List<AddedToken> added = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) {
            String content = t.path("content").asText(null);
            if (content == null || content.isEmpty()) {
                throw bad("added token without content");
            }
            int id = checkId(t.get("id"), "added token '" + content + "'");
            added.add(new AddedToken(content, id, t.path("special").asBoolean(false),
                    t.path("lstrip").asBoolean(false), t.path("rstrip").asBoolean(false)));
            maxId = Math.max(maxId, id);
        }
        int n = maxId + 1;
        String[] tokens = new String[n];
        modelVocab.forEach((s, id) -> tokens[id] = s);
        boolean[] special = new boolean[n];
        for (AddedToken t : added) {
            tokens[t.id()] = t.content();
            special[t.id()] = t.special();
        }

        boolean byteLevel = hasType(root.path("pre_tokenizer"), "ByteLevel") || hasType(root.path("decoder"), "ByteLevel");
        BpeTokenizer.SymbolMode mode = byteLevel ? BpeTokenizer.SymbolMode.BYTE_LEVEL : BpeTokenizer.SymbolMode.CODE_POINT;

        MergeTable merges = parseMerges(model.get("merges"), modelVocab);

        // Decoder: how vocabulary strings turn back into text.
        DecoderRules dec = parseDecoder(root.path("decoder"), byteLevel);
        byte[][] tokenBytes = new byte[n][];
        for (int id = 0; id < n; id++) {
            if (tokens[id] != null) {
                tokenBytes[id] = decodeToken(tokens[id], mode, dec);
            }
        }
        for (AddedToken t : added) {
            tokenBytes[t.id()] = t.content().getBytes(StandardCharsets.UTF_8);
        }

        Map<String, Integer> allIds = new HashMap<>(modelVocab);
        for (AddedToken t : added) {
            allIds.put(t.content(), t.id());
        }
        String unk = model.path("unk_token").asText(null);
        int unkId = unk == null ? -1 : allIds.getOrDefault(unk, -1);
        String bos = tokenText(cfg.get("bos_token"));
        String eos = tokenText(cfg.get("eos_token"));
        int bosId = bos == null ? -1 : allIds.getOrDefault(bos, -1);
        int eosId = eos == null ? -1 : allIds.getOrDefault(eos, -1);
        // transformers: an explicit add_bos_token decides (LlamaTokenizerFast rebuilds its post-processor from it);
        // otherwise the post-processor's template says what goes first (Llama 3: <|begin_of_text|>; GLM-4-0414 and
        // glm-4-9b-chat-hf: [gMASK]<sop>).
        int[] prefix = cfg.path("add_bos_token").isBoolean()
                ? (cfg.get("add_bos_token").asBoolean() && bosId >= 0 ? new int[] {bosId} : new int[0])
                : templatePrefix(root.path("post_processor"), allIds);
        for (int id : prefix) {
            if (id >= n || tokens[id] == null) {
                throw bad("post_processor prefix token id " + id + " is not in the vocabulary");
            }
        }

        return new BpeTokenizer(new BpeTokenizer.Spec(mode, tokens, tokenBytes, special, modelVocab, merges, added,
                parseNormalizer(root.path("normalizer")), parsePreTokenizer(root.path("pre_tokenizer")),
                model.path("ignore_merges").asBoolean(false), model.path("byte_fallback").asBoolean(false),
                unkId, model.path("fuse_unk").asBoolean(false), dec.stripLeading, bosId, eosId, prefix));
    }

    private int checkId(JsonNode v, String what) {
        if (v == null || !v.canConvertToInt() || v.asInt() < 0 || v.asInt() >= MAX_VOCAB) {
            throw bad(what + " has an invalid id " + v);
        }
        return v.asInt();
    }

    private MergeTable parseMerges(JsonNode merges, Map<String, Integer> vocab) {
        if (!merges.isArray()) {
            throw bad("model.merges is not an array");
        }
        MergeTable table = new MergeTable(merges.size());
        int rank = 0;
        for (JsonNode m : merges) {
            String a;
            String b;
            if (m.isTextual()) { // "a b" (tokenizers < 0.20)
                String s = m.asText();
                int sp = s.indexOf(' ', 1);
                if (sp < 0) {
                    throw bad("merge #" + rank + " '" + s + "' is not two tokens separated by a space");
                }
                a = s.substring(0, sp);
                b = s.substring(sp + 1);
            } else if (m.isArray() && m.size() == 2) { // ["a", "b"] (tokenizers >= 0.20)
                a = m.get(0).asText();
                b = m.get(1).asText();
            } else {
                throw bad("merge #" + rank + " is neither \"a b\" nor [a, b]");
            }
            Integer ia = vocab.get(a);
            Integer ib = vocab.get(b);
            Integer im = vocab.get(a + b);
            if (ia == null || ib == null || im == null) {
                // HF tokenizers refuses such a file too (MergeTokenOutOfVocabulary).
                throw bad("merge #" + rank + " '" + a + " " + b + "' uses a token that is not in the vocabulary");
            }
            table.putIfAbsent(ia, ib, rank, im);
            rank++;
        }
        return table;
    }

    private static String tokenText(JsonNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (n.isTextual()) {
            return n.asText();
        }
        return n.path("content").asText(null); // {"__type": "AddedToken", "content": ...}
    }

    private static boolean hasType(JsonNode n, String type) {
        if (n == null || n.isMissingNode() || n.isNull()) {
            return false;
        }
        if (type.equals(n.path("type").asText())) {
            return true;
        }
        for (String list : new String[] {"pretokenizers", "decoders", "normalizers", "processors"}) {
            for (JsonNode c : n.path(list)) {
                if (hasType(c, type)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The special tokens a TemplateProcessing post-processor writes before the text ({@code $A}) of a single
     * sequence (tokenizers processors/template.rs), found directly or inside a Sequence of processors. A token is
     * resolved through the processor's own {@code special_tokens} table (its {@code ids}), else by its text.
     */
    private int[] templatePrefix(JsonNode pp, Map<String, Integer> ids) {
        if (pp == null || pp.isMissingNode() || pp.isNull()) {
            return new int[0];
        }
        if ("TemplateProcessing".equals(pp.path("type").asText())) {
            java.util.stream.IntStream.Builder out = java.util.stream.IntStream.builder();
            for (JsonNode piece : pp.path("single")) {
                JsonNode st = piece.path("SpecialToken");
                if (st.isMissingNode()) {
                    break; // the sequence itself: what follows is a suffix
                }
                String text = st.path("id").asText("");
                JsonNode listed = pp.path("special_tokens").path(text).path("ids");
                if (listed.isArray() && !listed.isEmpty()) {
                    for (JsonNode id : listed) {
                        out.add(checkId(id, "post_processor special token '" + text + "'"));
                    }
                } else if (ids.containsKey(text)) {
                    out.add(ids.get(text));
                } else {
                    throw bad("post_processor names special token '" + text + "', which is not in the vocabulary");
                }
            }
            return out.build().toArray();
        }
        for (JsonNode c : pp.path("processors")) {
            int[] p = templatePrefix(c, ids);
            if (p.length > 0) {
                return p;
            }
        }
        return new int[0];
    }

    private TextRules.Normalizer parseNormalizer(JsonNode n) {
        if (n == null || n.isMissingNode() || n.isNull()) {
            return null;
        }
        String type = n.path("type").asText();
        return switch (type) {
            case "Sequence" -> {
                List<TextRules.Normalizer> parts = new ArrayList<>();
                for (JsonNode c : n.path("normalizers")) {
                    TextRules.Normalizer p = parseNormalizer(c);
                    if (p != null) {
                        parts.add(p);
                    }
                }
                yield s -> {
                    for (TextRules.Normalizer p : parts) {
                        s = p.apply(s);
                    }
                    return s;
                };
            }
            case "NFC" -> s -> java.text.Normalizer.normalize(s, Form.NFC);
            case "NFD" -> s -> java.text.Normalizer.normalize(s, Form.NFD);
            case "NFKC" -> s -> java.text.Normalizer.normalize(s, Form.NFKC);
            case "NFKD" -> s -> java.text.Normalizer.normalize(s, Form.NFKD);
            case "Lowercase" -> s -> s.toLowerCase(Locale.ROOT);
            case "Prepend" -> {
                String pre = n.path("prepend").asText("");
                yield s -> s.isEmpty() ? s : pre + s; // HF Prepend leaves an empty string empty
            }
            case "Strip" -> {
                boolean left = n.path("strip_left").asBoolean(false);
                boolean right = n.path("strip_right").asBoolean(false);
                yield s -> {
                    String r = left ? TextRules.trimStart(s) : s;
                    return right ? TextRules.trimEnd(r) : r;
                };
            }
            case "Replace" -> {
                String content = n.path("content").asText("");
                JsonNode pat = n.path("pattern");
                if (pat.has("String")) {
                    String from = pat.get("String").asText();
                    yield s -> s.replace(from, content);
                }
                Pattern re = compile(pat.path("Regex").asText());
                String literal = java.util.regex.Matcher.quoteReplacement(content);
                yield s -> re.matcher(s).replaceAll(literal);
            }
            default -> throw bad("unsupported normalizer '" + type + "'");
        };
    }

    private TextRules.PreTokenizer parsePreTokenizer(JsonNode n) {
        if (n == null || n.isMissingNode() || n.isNull()) {
            return TextRules.WHOLE;
        }
        List<JsonNode> steps = new ArrayList<>();
        if ("Sequence".equals(n.path("type").asText())) {
            n.path("pretokenizers").forEach(steps::add);
        } else {
            steps.add(n);
        }
        if (steps.size() == 1 && "Metaspace".equals(steps.get(0).path("type").asText())) {
            JsonNode m = steps.get(0);
            String repl = m.path("replacement").asText("\u2581");
            String scheme = m.has("prepend_scheme") ? m.path("prepend_scheme").asText("always")
                    : (m.path("add_prefix_space").asBoolean(true) ? "always" : "never");
            return TextRules.metaspace(repl.charAt(0), scheme, m.path("split").asBoolean(true));
        }
        List<Pattern> patterns = new ArrayList<>();
        boolean prefixSpace = false;
        for (int i = 0; i < steps.size(); i++) {
            JsonNode s = steps.get(i);
            String type = s.path("type").asText();
            switch (type) {
                case "Split" -> {
                    String behavior = s.path("behavior").asText("Isolated");
                    if (!"Isolated".equals(behavior) || s.path("invert").asBoolean(false)) {
                        throw bad("unsupported Split pre-tokenizer behavior '" + behavior + "'"
                                + (s.path("invert").asBoolean(false) ? " with invert" : ""));
                    }
                    JsonNode pat = s.path("pattern");
                    patterns.add(pat.has("String") ? Pattern.compile(Pattern.quote(pat.get("String").asText()))
                            : compile(pat.path("Regex").asText()));
                }
                case "ByteLevel" -> {
                    if (s.path("add_prefix_space").asBoolean(false)) {
                        if (i != 0) {
                            throw bad("ByteLevel add_prefix_space after another pre-tokenizer is not supported");
                        }
                        prefixSpace = true;
                    }
                    if (s.path("use_regex").asBoolean(true)) {
                        patterns.add(compile(TextRules.GPT2_REGEX));
                    }
                }
                // HF Digits: runs of numeric characters (char::is_numeric, i.e. \p{N}) isolated, one by
                // one with individual_digits.
                case "Digits" -> patterns.add(compile(s.path("individual_digits").asBoolean(false) ? "\\p{N}" : "\\p{N}+"));
                default -> throw bad("unsupported pre_tokenizer '" + type + "'");
            }
        }
        TextRules.PreTokenizer p = patterns.isEmpty() ? TextRules.WHOLE : TextRules.regexSplit(patterns);
        return prefixSpace ? TextRules.prefixSpace(p) : p;
    }

    private Pattern compile(String regex) {
        try {
            return TextRules.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new ModelFormatException(file, "regex not understood: " + regex, e);
        }
    }

    /** What the decoder pipeline does to single tokens, plus the leading spaces it strips from the text. */
    private record DecoderRules(List<String[]> replacements, boolean byteFallback, int stripLeading) {
    }

    private DecoderRules parseDecoder(JsonNode n, boolean byteLevel) {
        List<String[]> repl = new ArrayList<>();
        boolean[] byteFallback = {false};
        int[] strip = {0};
        collectDecoder(n == null ? NullNode.getInstance() : n, repl, byteFallback, strip, byteLevel);
        return new DecoderRules(repl, byteFallback[0], strip[0]);
    }

    private void collectDecoder(JsonNode n, List<String[]> repl, boolean[] byteFallback, int[] strip, boolean byteLevel) {
        if (n.isMissingNode() || n.isNull()) {
            return;
        }
        String type = n.path("type").asText();
        switch (type) {
            case "Sequence" -> {
                for (JsonNode c : n.path("decoders")) {
                    collectDecoder(c, repl, byteFallback, strip, byteLevel);
                }
            }
            case "ByteLevel", "Fuse" -> {
                // ByteLevel: handled by the symbol mode; Fuse: concatenation is what decode does anyway.
            }
            case "ByteFallback" -> byteFallback[0] = true;
            case "Replace" -> {
                if (!n.path("pattern").has("String")) {
                    throw bad("unsupported decoder Replace with a regex pattern");
                }
                repl.add(new String[] {n.path("pattern").get("String").asText(), n.path("content").asText("")});
            }
            case "Strip" -> {
                if (!" ".equals(n.path("content").asText()) || n.path("stop").asInt(0) != 0) {
                    throw bad("unsupported decoder Strip " + n);
                }
                strip[0] = n.path("start").asInt(0);
            }
            case "Metaspace" -> {
                String r = n.path("replacement").asText("\u2581");
                repl.add(new String[] {r, " "});
                String scheme = n.has("prepend_scheme") ? n.path("prepend_scheme").asText("always")
                        : (n.path("add_prefix_space").asBoolean(true) ? "always" : "never");
                if (!"never".equals(scheme)) {
                    strip[0] = 1;
                }
            }
            default -> throw bad("unsupported decoder '" + type + "'");
        }
    }

    private static byte[] decodeToken(String token, BpeTokenizer.SymbolMode mode, DecoderRules dec) {
        if (mode == BpeTokenizer.SymbolMode.BYTE_LEVEL) {
            return ByteLevel.decode(token);
        }
        if (dec.byteFallback() && token.length() == 6 && token.startsWith("<0x") && token.endsWith(">")) {
            try {
                return new byte[] {(byte) Integer.parseInt(token.substring(3, 5), 16)};
            } catch (NumberFormatException e) {
                // not a byte token after all: fall through
            }
        }
        String s = token;
        for (String[] r : dec.replacements()) {
            s = s.replace(r[0], r[1]);
        }
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
