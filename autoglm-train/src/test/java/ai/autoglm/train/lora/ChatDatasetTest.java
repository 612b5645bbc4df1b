package ai.autoglm.train.lora;

import ai.autoglm.core.tokenizer.ChatMessage;
import ai.autoglm.core.tokenizer.ChatTemplate;
import ai.autoglm.core.tokenizer.Tokenizer;
import ai.autoglm.core.tokenizer.Tokenizers;
import ai.autoglm.core.testing.ModelFixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Assistant-only targets: the trained runs of tokens, decoded, are exactly the assistant replies as each template
 * writes them (the expected strings are written here by hand from the template text), and everything decodes back
 * to the full render.
 */
class ChatDatasetTest {
    @TempDir
    static Path dir;
    static Tokenizer tok;

    private static final List<ChatMessage> CONVERSATION = List.of(ChatMessage.system("be brief"), ChatMessage.user("hello"),
            ChatMessage.assistant("world"), ChatMessage.user("again"), ChatMessage.assistant("fine"));

    @BeforeAll
    static void tokenizer() {
        tok = Tokenizers.fromHfDirectory(ModelFixtures.writeHf(ModelFixtures.qwen2(), dir.resolve("m")));
    }

    private static List<String> trainedRuns(ChatDataset.Example e) {
        List<String> runs = new ArrayList<>();
        int i = 0;
        while (i < e.tokens().length) {
            if (!e.trained()[i]) {
                i++;
                continue;
            }
            int j = i;
            while (j < e.tokens().length && e.trained()[j]) j++;
            runs.add(tok.decode(Arrays.copyOfRange(e.tokens(), i, j)));
            i = j;
        }
        return runs;
    }

    @Test
    void chatMlRepliesWithTheirEndOfTurnAreTheTargets() {
        ChatTemplate t = new ChatTemplate(ModelFixtures.CHAT_TEMPLATE, "", "");
        ChatDataset.Example e = ChatDataset.encode(CONVERSATION, tok, t);
        assertThat(trainedRuns(e)).containsExactly("world<|im_end|>\n", "fine<|im_end|>\n");
        assertThat(tok.decode(e.tokens())).isEqualTo(t.render(CONVERSATION, false, null, null));
    }

    @Test
    void glmTurnsEndWithEosAfterTheLastReply() {
        String glm = "[gMASK]<sop>{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}{% endfor %}"
                + "{% if add_generation_prompt %}<|assistant|>\n{% endif %}";
        ChatDataset.Example e = ChatDataset.encode(CONVERSATION, tok, new ChatTemplate(glm, "", ""));
        assertThat(trainedRuns(e)).containsExactly("world", "fine" + tok.decode(new int[]{tok.eosId()}));
    }

    @Test
    void templatesThatRewriteEarlierTurnsAndBadLinesAreRefused() throws Exception {
        ChatTemplate lastOnly = new ChatTemplate("{{ messages[-1]['content'] }}", "", "");
        assertThatThrownBy(() -> ChatDataset.encode(CONVERSATION, tok, lastOnly)).hasMessageContaining("prefixes");
        Path bad = Files.writeString(dir.resolve("bad.jsonl"), "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"b\"}]}\n\n{\"messages\": [{\"role\": \"user\"}]}\n");
        assertThatThrownBy(() -> ChatDataset.read(bad, tok, new ChatTemplate(ModelFixtures.CHAT_TEMPLATE, "", "")))
                .hasMessageContaining("bad.jsonl line 3").hasMessageContaining("\"content\"");
        Path notJson = Files.writeString(dir.resolve("nj.jsonl"), "{oops\n");
        assertThatThrownBy(() -> ChatDataset.read(notJson, tok, new ChatTemplate(ModelFixtures.CHAT_TEMPLATE, "", "")))
                .hasMessageContaining("line 1").hasMessageContaining("not valid JSON");
    }
}
