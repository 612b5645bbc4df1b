package ai.autoglm.core.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.lib.tag.ForTag;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.mode.ExecutionMode;
import com.hubspot.jinjava.objects.SafeString;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.tree.output.RenderedOutputNode;
import com.hubspot.jinjava.util.ObjectIterator;
import java.time.Clock;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.TreeBuilder;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ExpressionFactory;

/**
 * A model's chat template (the Jinja {@code chat_template} of its tokenizer_config.json or GGUF
 * {@code tokenizer.chat_template}), rendered as Hugging Face transformers renders it.
 *
 * <p>transformers ({@code src/transformers/utils/chat_template_utils.py}, {@code _compile_jinja_template} and
 * {@code render_jinja_template}) renders with CPython's jinja2: an {@code ImmutableSandboxedEnvironment} with
 * {@code trim_blocks=True, lstrip_blocks=True}, the {@code loopcontrols} extension and a {@code {% generation %}}
 * block, the {@code tojson} filter replaced by {@code json.dumps(x, ensure_ascii=False, indent=...)}, and the
 * globals {@code raise_exception(msg)} and {@code strftime_now(fmt)}; the variables are {@code messages},
 * {@code tools}, {@code documents}, {@code add_generation_prompt}, the special tokens and extra keyword
 * arguments. Here the renderer is Jinjava, configured and extended so that the output is byte-identical to
 * jinja2's for the templates models ship:
 * <ul>
 *   <li>Python {@code str}/{@code dict} methods ({@code startswith}, {@code split}, {@code strip('\n')},
 *       {@code get(k, default)}, {@code items()}, ...) through {@link PythonMethodResolver};</li>
 *   <li>values printed as Python's {@code str()} (None, True, 1.0, lists and dicts as repr), no HTML escaping,
 *       and no re-rendering of output that happens to contain {@code {{} (Jinjava's "nested interpretation");</li>
 *   <li>{@code tojson} as {@code json.dumps}, {@code trim} as {@code str.strip}, and the {@code string},
 *       {@code iterable}, {@code sequence} tests as in jinja2 (strings and dicts are iterable);</li>
 *   <li>slices with a step or an empty start ({@code messages[::-1]}, {@code messages[1:]}) which Jinjava's
 *       expression parser does not accept: {@link TemplateRewriter} rewrites them, before parsing, into a
 *       {@code py_slice(...)} call with the same meaning (the one source rewrite; see there).</li>
 * </ul>
 * Known differences that remain: Jinjava does not tell a missing key from a key holding None, so
 * {@code {{ x }}} with x None prints "" (jinja2: "None") and {@code x is defined} is false for it; reading an
 * attribute of an undefined value yields undefined instead of jinja2's UndefinedError; string escapes other
 * than the common ones ({@code \n \t \' \" \\}) in template literals are untested.
 *
 * <p>An error in the template, an error while evaluating it, or a {@code raise_exception} call throws
 * {@link ChatTemplateException} with the problem (and the template's line) in its message.
 *
 * <p>Instances are immutable and may be shared between threads.
 */
public final class ChatTemplate {

    private final String source;
    private final String rewritten;
    private final String bosToken;
    private final String eosToken;
    private final Clock clock;
    private final Jinjava jinjava;

    /**
     * @param jinjaSource the template text
     * @param bosToken    the text of the BOS token (variable {@code bos_token}), or null when the model has none
     * @param eosToken    the text of the EOS token (variable {@code eos_token}), or null
     */
    public ChatTemplate(String jinjaSource, String bosToken, String eosToken) {
        this(jinjaSource, bosToken, eosToken, Clock.systemDefaultZone());
    }

    /** As {@link #ChatTemplate(String, String, String)}, with the clock that {@code strftime_now} reads. */
    public ChatTemplate(String jinjaSource, String bosToken, String eosToken, Clock clock) {
        this.source = Objects.requireNonNull(jinjaSource, "jinjaSource");
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.rewritten = TemplateRewriter.rewrite(jinjaSource);
        this.jinjava = newJinjava();
    }

    /** The template text as given. */
    public String source() {
        return source;
    }

    /**
     * Renders a conversation into the prompt text.
     *
     * @param messages            the conversation
     * @param addGenerationPrompt whether to end with the header that starts the assistant's reply
     * @param tools               tool (function) schemas in the OpenAI shape {@code {type:"function", function:{...}}},
     *                            or null when none (templates test {@code if tools})
     * @param extraVars           further template variables (e.g. {@code enable_thinking}), or null
     * @throws ChatTemplateException when the template has an error or rejects the conversation
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, List<Map<String, Object>> tools,
                         Map<String, Object> extraVars) {
        Objects.requireNonNull(messages, "messages");
        List<Map<String, Object>> messageMaps = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) messageMaps.add(m.toTemplateMap());
        return renderRaw(messageMaps, addGenerationPrompt, tools, extraVars);
    }

    /**
     * Renders with messages given as maps (any keys a template may read, e.g. content as a list of parts).
     * Same variables and errors as {@link #render}.
     */
    public String renderRaw(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt,
                            List<? extends Map<String, ?>> tools, Map<String, ?> extraVars) {
        // Variables as transformers passes them: extra kwargs and special tokens first, the named ones on top.
        Map<String, Object> vars = new LinkedHashMap<>();
        if (extraVars != null) vars.putAll(extraVars);
        if (bosToken != null) vars.putIfAbsent("bos_token", bosToken);
        if (eosToken != null) vars.putIfAbsent("eos_token", eosToken);
        vars.put("messages", messages);
        vars.put("tools", tools);
        vars.put("documents", null);
        vars.put("add_generation_prompt", addGenerationPrompt);

        RenderResult result;
        try {
            result = jinjava.renderForResult(rewritten, vars);
        } catch (RuntimeException e) {
            throw new ChatTemplateException("chat template failed: " + e.getMessage(), e);
        }
        for (TemplateError error : result.getErrors()) {
            RaisedException raised = raisedException(error.getException());
            if (raised != null) {
                throw new ChatTemplateException("chat template raised an exception: " + raised.getMessage(), true);
            }
        }
        List<String> problems = new ArrayList<>();
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                problems.add("line " + error.getLineno() + ": " + error.getMessage()
                    + (error.getFieldName() == null || error.getFieldName().isEmpty() ? "" : " (in '" + error.getFieldName() + "')"));
            }
        }
        if (!problems.isEmpty()) {
            throw new ChatTemplateException("chat template error: " + String.join("; ", problems), false);
        }
        return result.getOutput();
    }

    private static RaisedException raisedException(Throwable t) {
        for (int depth = 0; t != null && depth < 20; depth++, t = t.getCause()) {
            if (t instanceof RaisedException r) return r;
        }
        return null;
    }

    private Jinjava newJinjava() {
        // Resolvers: Python str/dict methods first, then Jinjava's own (read-only: the sandbox is immutable).
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonMethodResolver());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
            // trim_blocks / lstrip_blocks / {%- -%} are applied by TemplateRewriter exactly as jinja2's lexer does
            .withTrimBlocks(false)
            .withLstripBlocks(false)
            .withNestedInterpretationEnabled(false)
            .withFailOnUnknownTokens(false)
            .withElResolver(resolver)
            .withTimeZone(clock.getZone())
            .withExecutionMode(PythonOutputMode.INSTANCE)
            .build();
        Jinjava j = new PythonJinjava(config);
        Context globals = j.getGlobalContext();
        globals.registerFilter(new ToJsonFilter());
        globals.registerFilter(new TrimFilter());
        globals.registerFilter(new StringFilter());
        globals.registerExpTest(new IterableTest("iterable"));
        globals.registerExpTest(new IterableTest("sequence"));
        globals.registerTag(new GenerationTag());
        globals.registerTag(new LoopItemsForTag());
        try {
            globals.registerFunction(new ELFunctionDefinition("", "raise_exception",
                ChatTemplate.class.getDeclaredMethod("raiseException", Object.class)));
            globals.registerFunction(new ELFunctionDefinition("", "strftime_now",
                ChatTemplate.class.getDeclaredMethod("strftimeNow", String.class)));
            globals.registerFunction(new ELFunctionDefinition("", TemplateRewriter.SLICE_FUNCTION,
                ChatTemplate.class.getDeclaredMethod("pySlice", Object.class, Object.class, Object.class, Object.class)));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
        globals.put(CLOCK_VARIABLE, clock);
        return j;
    }

    private static final String CLOCK_VARIABLE = "__autoglm_clock__";

    /** Thrown by the template's {@code raise_exception(message)}; recognised after rendering. */
    static final class RaisedException extends RuntimeException {
        RaisedException(String message) {
            super(message);
        }
    }

    /** The {@code raise_exception} global. */
    public static String raiseException(Object message) {
        throw new RaisedException(PythonValues.str(message));
    }

    /** The {@code strftime_now} global: {@code datetime.now().strftime(format)} on the template's clock. */
    public static String strftimeNow(String format) {
        JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
        Clock clock = interpreter != null && interpreter.getContext().get(CLOCK_VARIABLE) instanceof Clock c
            ? c : Clock.systemDefaultZone();
        ZonedDateTime now = ZonedDateTime.ofInstant(Instant.now(clock), clock.getZone());
        return StrftimeFormatter.format(now, format, Locale.ENGLISH);
    }

    /** Python's {@code value[start:stop:step]} on a list or a string (see {@link TemplateRewriter}). */
    public static Object pySlice(Object value, Object start, Object stop, Object step) {
        int st = step == null ? 1 : toInt(step, "slice step");
        if (st == 0) throw new IllegalArgumentException("slice step cannot be zero");
        List<?> list;
        String string = null;
        if (value instanceof CharSequence || value instanceof SafeString) {
            string = value.toString();
            list = string.codePoints().mapToObj(Character::toString).toList();
        } else {
            list = PythonValues.asList(value);
            if (list == null) {
                throw new IllegalArgumentException("cannot slice a value of type "
                    + (value == null ? "None" : value.getClass().getSimpleName()));
            }
        }
        int n = list.size();
        // CPython's PySlice_AdjustIndices
        int lo, hi;
        if (st > 0) {
            lo = start == null ? 0 : clamp(toInt(start, "slice start"), n, 0, n);
            hi = stop == null ? n : clamp(toInt(stop, "slice stop"), n, 0, n);
        } else {
            lo = start == null ? n - 1 : clamp(toInt(start, "slice start"), n, -1, n - 1);
            hi = stop == null ? -1 : clamp(toInt(stop, "slice stop"), n, -1, n - 1);
        }
        List<Object> out = new ArrayList<>();
        if (st > 0) for (int i = lo; i < hi; i += st) out.add(list.get(i));
        else for (int i = lo; i > hi; i += st) out.add(list.get(i));
        if (string != null) {
            StringBuilder sb = new StringBuilder();
            for (Object o : out) sb.append(o);
            return sb.toString();
        }
        return out;
    }

    private static int clamp(int index, int n, int min, int max) {
        if (index < 0) index += n;
        return Math.max(min, Math.min(max, index));
    }

    private static int toInt(Object o, String what) {
        if (o instanceof Number num) return num.intValue();
        throw new IllegalArgumentException(what + " must be an integer, got " + PythonValues.repr(o));
    }

    /**
     * Jinjava with one change: its expression type converter turns values into strings as Python's {@code str()}
     * does ({@code 'b=' ~ true} is {@code "b=True"}); Jinjava's constructor hard-wires its converter, the factory
     * getter is the extension point.
     */
    private static final class PythonJinjava extends Jinjava {
        private final ExpressionFactory factory;

        PythonJinjava(JinjavaConfig config) {
            super(config);
            Properties properties = new Properties();
            properties.setProperty(TreeBuilder.class.getName(), ExtendedSyntaxBuilder.class.getName());
            this.factory = new ExpressionFactoryImpl(properties, new PythonTypeConverter());
        }

        @Override
        public ExpressionFactory getExpressionFactory() {
            return factory;
        }
    }

    private static final class PythonTypeConverter extends TruthyTypeConverter {
        @Override
        protected String coerceToString(Object value) {
            if (value instanceof Boolean || value instanceof Number || value instanceof Map || value instanceof List) {
                return PythonValues.str(value);
            }
            return super.coerceToString(value);
        }
    }

    /**
     * The {@code for} tag, remembering the items of each running loop so that {@code loop.previtem} and
     * {@code loop.nextitem} (jinja2 loop attributes Jinjava's ForLoop lacks) can be answered by
     * {@link PythonMethodResolver}.
     */
    private static final class LoopItemsForTag extends ForTag {
        @Override
        public String renderForCollection(TagNode tagNode, JinjavaInterpreter interpreter, List<String> loopVars,
                                          Object collection) {
            List<Object> items = new ArrayList<>();
            ObjectIterator.getLoop(collection).forEachRemaining(items::add);
            PythonMethodResolver.LoopItems.push(items);
            try {
                return super.renderForCollection(tagNode, interpreter, loopVars, items);
            } finally {
                PythonMethodResolver.LoopItems.pop();
            }
        }
    }

    /** Execution mode whose only change is printing {@code {{ value }}} as Python's {@code str(value)}. */
    private enum PythonOutputMode implements ExecutionMode {
        INSTANCE;

        @Override
        public void prepareContext(Context context) {
            context.setExpressionStrategy((master, interpreter) -> {
                Object value = interpreter.resolveELExpression(master.getExpr(), master.getLineNumber());
                // null is Jinjava's "undefined" as well as None; jinja2 prints "" for undefined, the common case
                return new RenderedOutputNode(value == null ? "" : PythonValues.str(value));
            });
        }
    }

    /** {@code tojson} as transformers overrides it: {@code json.dumps(x, ensure_ascii=False, indent=None, ...)}. */
    private static final class ToJsonFilter implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            // positional order of transformers' tojson(x, ensure_ascii, indent, separators, sort_keys)
            Object ensureAscii = kwargs.getOrDefault("ensure_ascii", args.length > 0 ? args[0] : false);
            Object indent = kwargs.getOrDefault("indent", args.length > 1 ? args[1] : null);
            Object separators = kwargs.getOrDefault("separators", args.length > 2 ? args[2] : null);
            Object sortKeys = kwargs.getOrDefault("sort_keys", args.length > 3 ? args[3] : false);
            return PythonValues.jsonDumps(unwrap(var), Boolean.TRUE.equals(ensureAscii), indent,
                PythonValues.asList(separators), Boolean.TRUE.equals(sortKeys));
        }
    }

    private static Object unwrap(Object v) {
        return v instanceof SafeString s ? s.toString() : v;
    }

    /** jinja2's {@code trim(value, chars=None)}: Python's {@code str(value).strip(chars)}. */
    private static final class TrimFilter implements Filter {
        @Override
        public String getName() {
            return "trim";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, (Object[]) args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object chars = kwargs.getOrDefault("chars", args.length > 0 ? args[0] : null);
            return PythonMethodResolver.strip(var == null ? "" : PythonValues.str(unwrap(var)), chars, true, true);
        }
    }

    /** jinja2's {@code string} filter: Python's {@code str(value)}. */
    private static final class StringFilter implements Filter {
        @Override
        public String getName() {
            return "string";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return var == null ? "None" : PythonValues.str(unwrap(var));
        }
    }

    /** jinja2's {@code iterable} / {@code sequence} tests: strings and dicts count, as in Python. */
    private record IterableTest(String name) implements ExpTest {
        @Override
        public String getName() {
            return name;
        }

        @Override
        public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
            return var instanceof CharSequence || var instanceof SafeString || var instanceof Map
                || var instanceof Iterable || (var != null && var.getClass().isArray());
        }
    }

    /**
     * transformers' {@code {% generation %}...{% endgeneration %}} block (it marks the assistant's tokens for
     * training masks): renders its body unchanged, in its own scope as jinja2's call block does.
     */
    private static final class GenerationTag implements Tag {
        @Override
        public String getName() {
            return "generation";
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            StringBuilder out = new StringBuilder();
            try (JinjavaInterpreter.InterpreterScopeClosable scope = interpreter.enterScope()) {
                for (Node child : tagNode.getChildren()) {
                    out.append(child.render(interpreter).getValue());
                }
            }
            return out.toString();
        }
    }
}
