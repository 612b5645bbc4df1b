package ai.autoglm.core.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Mixed test text: scripts, code, emoji, whitespace runs, numbers, contractions, special-token text. */
public final class TokenizerCorpus {
    private TokenizerCorpus() {
    }

    public static final List<String> FIXED = List.of(
            "",
            " ",
            "Hello world",
            " Hello world ",
            "Hello, world! How are you today?",
            "I'm don't WE'LL they've she'd you're it's O'Neil 'quoted' rock'n'roll I'M YOU'RE He'S",
            "'s 't 're 've 'm 'll 'd '",
            "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
            "你好，世界！今天天气怎么样？我想去北京大学看看。",
            "中文English混合text测试123个数字",
            "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
            "public static void main(String[] args) {\n\tSystem.out.println(\"hi\");\n\t\treturn;\n}\n",
            "if (a && b || !c) { x += 1; y -= 2; } // comment\n/* block */",
            "    indented four\n        eight\n\t\ttabs\n",
            "emoji 😀😃😄 family 👨‍👩‍👧‍👦 thumbs 👍🏽👍🏿 flag 🇨🇳🇺🇸 heart ❤️ rainbow 🏳️‍🌈",
            "👩🏽‍💻 coding 🧑‍🚀 astronaut",
            "a  b   c    d     e",
            "line1\nline2\r\nline3\rline4\n\n\n\nline5",
            "tabs\t\tand\t spaces \t mixed \n\t \n",
            "   leading and trailing   ",
            "\n\nnewlines first",
            "numbers 1 12 123 1234 12345 123456 1234567 12345678901234567890",
            "3.14159 -42 1e10 0x1F 1,000,000 2024-01-15 12:30:45",
            "٣٤٥ ١٢ arabic digits, ½ ² ³ fractions",
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n",
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>",
            "text<|endoftext|>more text <|im_end|>",
            "<s>[INST] What is 2+2? [/INST] 4 </s>",
            "<think>\nreasoning here\n</think>\n\nanswer <tool_call>{\"name\": \"f\"}</tool_call>",
            "<|im_start|><|im_start|>x<|im_end|><|im_end|>",
            "<|not_a_token|> <|im_star <|im_start",
            "café naïve résumé Ångström Zürich façade",
            "e\u0301 a\u0308 combining o\u0302\u0323 marks n\u0303",
            "Ελληνικά κείμενο, русский текст, עברית",
            "한국어 텍스트입니다. 안녕하세요!",
            "日本語のテキスト、ひらがなとカタカナ。東京タワー",
            "مرحبا بالعالم، هذا نص عربي.",
            "हिन्दी पाठ और ภาษาไทย",
            "!!!??? ... --- *** ### $$$ %%% ^^^ &&& ((( ))) [[[ ]]] {{{ }}}",
            "@user #hashtag https://example.com/path?q=1&r=2#frag email@test.org",
            "ALL CAPS TEXT and MiXeD CaSe",
            "\u00a0nbsp\u00a0space \u3000ideographic\u3000space \u2003em",
            "zero\u200bwidth\u200djoiner\u200cnon",
            "x",
            "1",
            "\t",
            "\n",
            "\r\n",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "ééééééééééé 的的的的的的的 😀😀😀😀",
            "A\u0300\u0301\u0302\u0303\u0304 stacked",
            "Supplementary 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠀀𠀁 𝟘𝟙𝟚");

    private static final String[] PIECES = {
            "a", "b", "Z", "the", " the", "The", "ing", "tion", " ", "  ", "   ", "\t", "\n", "\r\n", "\r", "'", "'s", "'LL",
            "'ve", "0", "7", "42", "2024", "12345", ".", ",", "!", "?", "-", "_", "(", ")", "{", "}", "[", "]", "<", ">",
            "|", "/", "\\", "\"", "#", "@", "$", "%", "^", "&", "*", "=", "+", "~", "`", ":", ";",
            "中", "国", "人", "的", "你好", "世界", "。", "，", "！", "한", "국", "日本", "カ", "ア", "ب", "ع", "é", "ü", "ñ",
            "e\u0301", "\u0301", "ß", "Ω", "я", "😀", "👍", "🏽", "\u200d", "👨‍👩‍👧", "❤️", "🇯🇵", "𝔘",
            "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|begin_of_text|>", "<|eot_id|>", "<s>", "</s>", "<unk>",
            "<think>", "▁", "Ġ", "\u00a0", "\u3000"};

    /** Deterministic random concatenations of the pieces above: boundary cases the fixed texts miss. */
    public static List<String> random(int count, long seed) {
        Random r = new Random(seed);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            StringBuilder sb = new StringBuilder();
            int len = 1 + r.nextInt(40);
            for (int k = 0; k < len; k++) {
                sb.append(PIECES[r.nextInt(PIECES.length)]);
            }
            out.add(sb.toString());
        }
        return out;
    }

    public static List<String> all() {
        List<String> all = new ArrayList<>(FIXED);
        all.addAll(random(300, 20240611L));
        StringBuilder longText = new StringBuilder();
        for (String s : FIXED) {
            longText.append(s).append('\n');
        }
        all.add(longText.toString());
        return all;
    }
}
