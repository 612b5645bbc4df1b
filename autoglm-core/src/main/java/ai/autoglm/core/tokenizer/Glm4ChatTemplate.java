package ai.autoglm.core.tokenizer;

/**
 * GLM-4's chat format as a Jinja template that takes the OpenAI request shapes the server passes (the {@code tools}
 * variable, assistant {@code tool_calls}, role {@code tool}) and writes what THUDM/glm-4-9b-chat's own
 * {@code tokenizer_config.json} chat_template writes for the same conversation in GLM's shapes (tools on a message,
 * a call as an assistant turn with the function name in {@code metadata}, results as role {@code observation}):
 * <pre>
 *   [gMASK]&lt;sop&gt;&lt;|system|&gt;\n(GLM-4's system text)\n\n# 可用工具\n## name\n\n{function as JSON, indent 4}\n在调用上述函数时，...
 *   &lt;|user|&gt;\n question
 *   &lt;|assistant|&gt;name\n{"arg": ...}        (a call: the name on the turn line, the arguments as JSON)
 *   &lt;|observation|&gt;\n result               (a tool result)
 *   &lt;|assistant|&gt;                          (the generation prompt: the model writes "\n" then text, or a call)
 * </pre>
 * Only {@code function} tools are described (GLM-4's built-in python, simple_browser and cogview tools have no
 * OpenAI counterpart). The one newline after {@code # 可用工具} is what transformers' {@code trim_blocks} leaves of the
 * two in the source, as in GLM-4's template. Turns with empty content are skipped, as GLM-4's template skips them. This is the template
 * of the project's own GLM models (written by {@code autoglm train}, stored in {@code models/default/model.gguf});
 * GlmChatTemplatesTest renders it against CPython's jinja2 and against GLM-4's original template.
 */
public final class Glm4ChatTemplate {
    /** The system text GLM-4's template puts before the tools (glm-4-9b-chat tokenizer_config.json, verbatim). */
    private static final String SYSTEM = "你是一个名为 ChatGLM 的人工智能助手。你是基于智谱AI训练的语言模型 GLM-4 模型开发的，"
            + "你的任务是针对用户的问题和要求提供适当的答复和支持。";

    public static final String TEMPLATE = "[gMASK]<sop>"
            + "{% if tools %}<|system|>\n" + SYSTEM + "\n\n# 可用工具"
            + "{% for tool in tools %}{% if tool['type'] == 'function' %}\n\n## {{ tool['function']['name'] }}\n\n"
            + "{{ tool['function'] | tojson(indent=4) }}\n在调用上述函数时，请使用 Json 格式表示调用的参数。{% endif %}{% endfor %}{% endif %}"
            + "{% for message in messages %}"
            + "{% if message['role'] == 'tool' %}"
            + "{% if message['content'] %}<|observation|>\n{{ message['content'] }}{% endif %}"
            + "{% elif message['role'] == 'assistant' and message['tool_calls'] %}"
            + "{% if message['content'] %}<|assistant|>\n{{ message['content'] }}{% endif %}"
            + "{% for call in message['tool_calls'] %}<|assistant|>{{ call['function']['name'] }}\n"
            + "{% if call['function']['arguments'] is string %}{{ call['function']['arguments'] }}"
            + "{% else %}{{ call['function']['arguments'] | tojson }}{% endif %}{% endfor %}"
            + "{% elif message['content'] %}<|{{ message['role'] }}|>\n{{ message['content'] }}{% endif %}"
            + "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";

    private Glm4ChatTemplate() {
    }
}
