package ai.autoglm.train.lora;

import ai.autoglm.core.tokenizer.ChatMessage;
import ai.autoglm.core.tokenizer.ChatTemplate;
import ai.autoglm.core.tokenizer.Tokenizer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Chat fine-tuning data: JSONL, one conversation per line in the OpenAI / HF chat shape
 * {@code {"messages": [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}]}}, rendered with
 * the model's own chat template and tokenized, with only the assistant turns trained ("loss on completions only",
 * as TRL's assistant-only loss masks the rest).
 *
 * <p>Assistant spans are found by rendering prefixes, which works for any template: the span of assistant message
 * {@code i} is what {@code render(messages[..i], add_generation_prompt=false)} adds to
 * {@code render(messages[..i-1], add_generation_prompt=true)} (so the generation header is context, the reply and
 * whatever the template closes it with, e.g. ChatML's {@code <|im_end|>}, are targets). A template whose renders are
 * not prefixes of each other (one that rewrites earlier turns, e.g. drops reasoning) is refused with the line number.
 * When the conversation ends on an assistant turn whose span holds no special token (the template wrote no end-of-turn
 * token, as GLM's, whose turns end at the next header), the tokenizer's EOS is appended as a target so the tuned model
 * learns to stop; ChatML's {@code <|im_end|>} is already in the span.
 */
public final class ChatDataset {
    /** Largest JSONL line read (a conversation); beyond it the file is not chat data. */
    private static final int MAX_LINE_CHARS = 1 << 24;

    /** One conversation: token ids and, per position, whether that token is an assistant token to predict. */
    public record Example(int[] tokens, boolean[] trained) {
        public int trainedCount() {
            int c = 0;
            for (boolean b : trained) if (b) c++;
            return c;
        }
    }

    private ChatDataset() {
    }

    /** Reads {@code file}; an error names the file, the line and what was expected. */
    public static List<Example> read(Path file, Tokenizer tokenizer, ChatTemplate template) {
        ObjectMapper json = new ObjectMapper();
        List<Example> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int no = 0;
            while ((line = r.readLine()) != null) {
                no++;
                if (line.isBlank()) continue;
                if (line.length() > MAX_LINE_CHARS) throw bad(file, no, "line longer than " + MAX_LINE_CHARS + " characters");
                JsonNode root;
                try {
                    root = json.readTree(line);
                } catch (JsonProcessingException e) {
                    throw bad(file, no, "not valid JSON: " + e.getOriginalMessage());
                }
                List<ChatMessage> messages = messages(file, no, root);
                try {
                    out.add(encode(messages, tokenizer, template));
                } catch (IllegalArgumentException e) {
                    throw bad(file, no, e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (out.isEmpty()) throw new IllegalArgumentException(file + ": no conversations");
        return out;
    }

    private static List<ChatMessage> messages(Path file, int no, JsonNode root) {
        JsonNode msgs = root == null ? null : root.get("messages");
        if (msgs == null || !msgs.isArray() || msgs.isEmpty()) throw bad(file, no, "expected {\"messages\": [{\"role\": ..., \"content\": ...}, ...]}");
        List<ChatMessage> out = new ArrayList<>();
        boolean assistant = false;
        for (int i = 0; i < msgs.size(); i++) {
            JsonNode m = msgs.get(i);
            JsonNode role = m.get("role"), content = m.get("content");
            if (role == null || !role.isTextual() || content == null || !content.isTextual()) {
                throw bad(file, no, "messages[" + i + "] needs string \"role\" and \"content\"");
            }
            assistant |= role.asText().equals("assistant");
            out.add(new ChatMessage(role.asText(), content.asText()));
        }
        if (!assistant) throw bad(file, no, "no assistant message (nothing to train on)");
        return out;
    }

    private static IllegalArgumentException bad(Path file, int line, String what) {
        return new IllegalArgumentException(file + " line " + line + ": " + what);
    }

    /** One conversation as tokens with the assistant positions marked. */
    public static Example encode(List<ChatMessage> messages, Tokenizer tokenizer, ChatTemplate template) {
        String full = template.render(messages, false, null, null);
        List<int[]> pieces = new ArrayList<>();
        List<Boolean> trained = new ArrayList<>();
        int pos = 0;
        boolean endsOnAssistant = false;
        for (int i = 0; i < messages.size(); i++) {
            if (!messages.get(i).role().equals("assistant")) continue;
            String before = template.render(messages.subList(0, i), true, null, null);
            String after = template.render(messages.subList(0, i + 1), false, null, null);
            if (!after.startsWith(before) || !full.startsWith(after) || before.length() < pos) {
                throw new IllegalArgumentException("the chat template does not render this conversation as a sequence of prefixes "
                        + "(it rewrites earlier turns), so the assistant turns cannot be located");
            }
            pieces.add(tokenizer.encode(full.substring(pos, before.length()), true));
            trained.add(false);
            pieces.add(tokenizer.encode(full.substring(before.length(), after.length()), true));
            trained.add(true);
            pos = after.length();
            endsOnAssistant = true;
        }
        if (pos < full.length()) {
            pieces.add(tokenizer.encode(full.substring(pos), true));
            trained.add(false);
            endsOnAssistant = false;
        }
        if (endsOnAssistant && tokenizer.eosId() >= 0 && java.util.Arrays.stream(pieces.getLast()).noneMatch(tokenizer::isSpecial)) {
            pieces.add(new int[]{tokenizer.eosId()});
            trained.add(true);
        }
        int[] prefix = tokenizer.prefixTokens();
        int total = 0;
        for (int[] p : pieces) total += p.length;
        int[] ids = new int[total];
        boolean[] mask = new boolean[total];
        int at = 0;
        for (int k = 0; k < pieces.size(); k++) {
            int[] p = pieces.get(k);
            System.arraycopy(p, 0, ids, at, p.length);
            Arrays.fill(mask, at, at + p.length, trained.get(k));
            at += p.length;
        }
        // The prefix ([gMASK]<sop>, BOS) as Prompts.completion adds it when the template did not write it.
        if (prefix.length > 0 && !(ids.length >= prefix.length && Arrays.equals(ids, 0, prefix.length, prefix, 0, prefix.length))) {
            int[] withPrefix = new int[prefix.length + ids.length];
            boolean[] m = new boolean[withPrefix.length];
            System.arraycopy(prefix, 0, withPrefix, 0, prefix.length);
            System.arraycopy(ids, 0, withPrefix, prefix.length, ids.length);
            System.arraycopy(mask, 0, m, prefix.length, mask.length);
            ids = withPrefix;
            mask = m;
        }
        return new Example(ids, mask);
    }
}
