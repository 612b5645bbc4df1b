package ai.autoglm.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Jinja features that chat templates use, each rendered by {@link ChatTemplate} (Jinjava) and by CPython's
 * jinja2 as transformers configures it ({@link Jinja2Reference}); outputs must be byte-identical, and where
 * jinja2 fails ChatTemplate must fail too.
 */
class ChatTemplateJinjaFeaturesTest {

    static final String NOW = "2025-03-07T09:05:01";

    static List<Map<String, Object>> messages() {
        List<Map<String, Object>> m = new ArrayList<>();
        m.add(msg("system", "You are 'helpful'.\n"));
        m.add(msg("user", "Hello, 世界! \"quoted\" back\\slash\nnew line "));
        m.add(msg("assistant", "<think>\nhmm\n</think>\n\nAnswer"));
        m.add(msg("user", "<tool_response>x</tool_response>"));
        return m;
    }

    static Map<String, Object> msg(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    static List<Map<String, Object>> tools() {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("type", "object");
        params.put("properties", Map.of("city", Map.of("type", "string", "description", "城市 \"name\"")));
        params.put("required", List.of("city"));
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", "get_weather");
        fn.put("description", "Weather\tnow");
        fn.put("parameters", params);
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", fn);
        return List.of(tool);
    }

    static Map<String, Object> extra() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("b", 1);
        d.put("a", List.of(1, 2.5, "x", true));
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("enable_thinking", false);
        e.put("num", 3);
        e.put("flt", 0.5);
        e.put("flag", true);
        e.put("d", d);
        e.put("big", 1.0e20);
        e.put("small", 1.5e-7);
        return e;
    }

    static final List<String> SNIPPETS = List.of(
        // Python str methods
        "{{ messages[0].content.startswith('You') }}|{{ messages[1].content.endswith(('x', 'line ')) }}",
        "{{ messages[2].content.split('</think>')[-1].lstrip('\\n') }}",
        "{{ messages[2].content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}",
        "{{ '  a b  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ ' a  b '.split() }}|{{ 'a,b,,c'.split(',') }}|{{ 'a,b,c'.split(',', 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}",
        "{{ 'Hello World'.upper() }}|{{ 'Hello'.lower() }}|{{ 'hello world'.title() }}|{{ 'hELLO'.capitalize() }}|{{ 'a-b-c'.replace('-', '+') }}|{{ 'abcabc'.find('c') }}|{{ 'abcabc'.count('b') }}|{{ ', '.join(['x', 'y']) }}",
        // slices
        "{% for m in messages[::-1] %}{{ m.role }} {% endfor %}",
        "{% for m in messages[1:] %}{{ m.role }},{% endfor %}|{{ messages[:2]|length }}|{{ messages[1:3][0].role }}|{{ 'hello'[1:4] }}|{{ 'hello'[::-1] }}|{{ messages[-1:][0].role }}|{{ messages[::2]|length }}",
        "{{ messages[0].content[0] }}|{{ messages[1].content[-2] }}|{{ messages[-1].role }}",
        // namespace and loops
        "{% set ns = namespace(found=false, idx=messages|length - 1) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.found = true %}{% set ns.idx = loop.index0 %}{% endif %}{% endfor %}{{ ns.found }} {{ ns.idx }}",
        "{% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }}/{{ loop.revindex }}/{{ loop.revindex0 }};{% endfor %}",
        "{% for m in messages %}{% if loop.index0 == 1 %}{% continue %}{% endif %}{% if loop.index0 == 3 %}{% break %}{% endif %}{{ m.role }};{% endfor %}",
        "{% for m in messages %}{% if not loop.first %}{{ loop.previtem.role }}>{% endif %}{{ m.role }}{% if not loop.last %}<{{ loop.nextitem.role }}{% endif %};{% endfor %}",
        "{% set x = 1 %}{% for m in messages %}{% set x = loop.index %}{% endfor %}{{ x }}",
        // membership and tests
        "{% if '</think>' in messages[2].content %}yes{% endif %}{% if 'zzz' not in messages[2].content %}no{% endif %}{{ 'b' in d }}{{ 2 in [1, 2] }}",
        "{{ messages[0].content is string }} {{ tools is string }} {{ tools[0] is mapping }} {{ tools is sequence }} {{ missing is defined }} {{ num is number }} {{ messages[0].content is iterable }} {{ d is iterable }} {{ missing is undefined }}",
        "{% if enable_thinking is defined and enable_thinking is false %}off{% endif %}{% if flag is true %}T{% endif %}{% if tools is not none %}tools{% endif %}",
        "{% if messages[0].reasoning_content is defined and messages[0].reasoning_content is not none %}R{% else %}noR{% endif %}",
        // tojson
        "{{ tools|tojson }}",
        "{{ d|tojson(indent=2) }}",
        "{{ tools[0]|tojson(indent=4) }}",
        "{{ messages[1].content|tojson }}|{{ flt|tojson }}|{{ num|tojson }}|{{ flag|tojson }}|{{ big|tojson }}|{{ small|tojson }}",
        "{{ d|tojson(sort_keys=true) }}|{{ d|tojson(separators=(',', ':')) }}",
        "{{ messages[1].content|tojson(ensure_ascii=true) }}",
        // printing Python values
        "{{ num }} {{ flt }} {{ flag }} {{ d }} {{ [1, 'a', true] }} {{ big }} {{ small }}",
        "{{ 'n=' ~ num ~ ' f=' ~ flt ~ ' b=' ~ flag }}",
        "{{ num * 2 + 1 }} {{ 7 // 2 }} {{ 7 % 3 }} {{ messages|length - 1 }} {{ (messages|length) - 2 }}",
        // dict methods
        "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{{ d.get('b') }}{{ d.get('zz', 'dflt') }}|{{ d.keys()|list }}",
        // filters
        "{{ messages|selectattr('role', 'equalto', 'user')|list|length }}|{{ messages|map(attribute='role')|join(',') }}|{{ (messages|last).role }}|{{ (messages|first).role }}",
        "[{{ messages[1].content|trim }}]|[{{ ' \\t x \\n'|trim }}]|{{ 'abc'|upper }}|{{ messages|length }}|{{ num|string }}|{{ flag|string }}",
        "{{ '<|start|>' + messages[1]['role'] + '\\n\\n' + messages[1]['content'] | trim + '<|eot|>' }}",
        // whitespace control, trim_blocks and lstrip_blocks
        "{% for m in messages %}\n    {% if m.role == 'user' %}\n  U: {{ m.content }}\n    {% else %}\n  O: {{ m.role }}\n    {% endif %}\n{% endfor %}\nend\n",
        "{%- for m in messages -%}\n  {{- m.role -}}\n  ,\n{%- endfor %}\n  x  {{ num }}  \n  {%- if flag %}  y  {% endif -%}  \n z",
        "a  {#- comment -#}  b {# keep #} c\n  {# line #}\nd",
        "{% if flag %}\nyes\n{% endif %}\n{%+ if flag %}kept-indent{% endif %}\n    {%- if flag %} lstrip{% endif %}",
        "{% set x %}\nblock {{ num }}\n{% endset %}[{{ x }}]",
        "{% macro r(m, suffix='!') %}[{{ m.role }}{{ suffix }}]{% endmacro %}{% for m in messages %}{{ r(m) }}{{ r(m, '?') }}{% endfor %}",
        "{% generation %}gen {{ num }}{% endgeneration %}",
        "{{ 'a' if flag else 'b' }}|{{ 'x' if not flag }}|{% if flag and num > 2 or false %}c{% elif num %}d{% else %}e{% endif %}",
        "{{ \"tab\\there\" }}|{{ 'it\\'s' }}|{{ \"q\\\"q\" }}|{{ 'back\\\\slash' }}",
        "{%- if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{{ add_generation_prompt }}",
        "{{ bos_token }}{{ eos_token }}{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S') }}",
        // errors
        "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}",
        "{% if messages[0].role != 'user' %}{{ raise_exception('first message must be from the user, got ' + messages[0].role) }}{% endif %}"
    );

    @TestFactory
    Stream<DynamicTest> snippetsRenderAsJinja2() {
        List<Jinja2Reference.Case> cases = new ArrayList<>();
        for (String s : SNIPPETS) {
            cases.add(new Jinja2Reference.Case(s, messages(), tools(), true, "<s>", "</s>", extra(), NOW));
        }
        List<Jinja2Reference.Result> expected = Jinja2Reference.render(cases);
        Clock clock = Clock.fixed(LocalDateTime.parse(NOW).atZone(ZoneId.systemDefault()).toInstant(), ZoneId.systemDefault());
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < SNIPPETS.size(); i++) {
            String snippet = SNIPPETS.get(i);
            Jinja2Reference.Result ref = expected.get(i);
            tests.add(DynamicTest.dynamicTest("snippet " + i + ": " + snippet.replace('\n', '⏎'), () -> {
                ChatTemplate t = new ChatTemplate(snippet, "<s>", "</s>", clock);
                if (ref.error() != null) {
                    assertThatThrownBy(() -> t.renderRaw(messages(), true, tools(), extra()))
                        .as("jinja2 failed with %s", ref.error())
                        .isInstanceOf(ChatTemplateException.class);
                } else {
                    assertThat(t.renderRaw(messages(), true, tools(), extra())).isEqualTo(ref.text());
                }
            }));
        }
        return tests.stream();
    }
}
