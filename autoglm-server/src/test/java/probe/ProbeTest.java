package probe;
import com.openai.models.chat.completions.*;
import org.junit.jupiter.api.Test;
class ProbeTest {
    public record Reading(String city, int celsius, long when, double ratio, Integer boxed, java.util.List<String> tags) {}
    @Test void probe() throws Exception {
        var p = ChatCompletionCreateParams.builder().model("m").addUserMessage("x").responseFormat(Reading.class).build();
        System.out.println("SCHEMA " + com.openai.core.ObjectMappers.jsonMapper().writeValueAsString(p.rawParams()._body()));
        System.out.println("CP " + System.getProperty("java.class.path"));
    }
}
