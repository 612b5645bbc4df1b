package ai.autoglm.examples;

import ai.autoglm.client.AutoGLMClient;
import ai.autoglm.langchain4j.AutoglmChatModel;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.SystemMessage;

/** A LangChain4j AI service running the bundled model in this JVM (no HTTP). */
public class LangChain4jExample {
    interface Poet {
        @SystemMessage("你是诗人。")
        String write(String topic);
    }

    enum Tone { calm, sad, happy }

    /** AiServices asks for this record's JSON schema; the answer is constrained to it. */
    record Mood(Tone tone, boolean rhymes) {
    }

    interface MoodReader {
        Mood read(String text);
    }

    public static void main(String[] args) {
        try (AutoGLMClient client = AutoGLMClient.inProcess().bundledModel().build()) {
            AutoglmChatModel model = new AutoglmChatModel(client);
            Poet poet = AiServices.create(Poet.class, model);
            System.out.println("poem: " + poet.write("月亮"));
            MoodReader reader = AiServices.create(MoodReader.class, model);
            System.out.println("mood: " + reader.read("How do you feel?"));
        }
    }
}
