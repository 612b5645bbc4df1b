package ai.autoglm.core.tokenizer;

import com.hubspot.jinjava.el.ext.NamedParameter;
import com.hubspot.jinjava.objects.SafeString;
import com.hubspot.jinjava.util.ForLoop;
import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Lets Jinjava call the Python {@code str} and {@code dict} methods that chat templates use
 * ({@code message.content.startswith('<tool_response>')}, {@code .split('</think>')}, {@code .strip('\n')},
 * {@code tool.get('function', tool)}, {@code d.items()}, ...). Jinjava otherwise resolves method calls on Java
 * objects by reflection, where {@code startswith} does not exist and {@code split}/{@code strip} mean something
 * else. Placed first in the resolver chain; anything it does not know falls through to Jinjava's own resolvers.
 * Semantics follow CPython's {@code Objects/unicodeobject.c} / {@code dict} documentation.
 */
final class PythonMethodResolver extends ELResolver {

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (base == null || method == null) return null;
        Object[] args = params == null ? new Object[0] : params;
        String name = method.toString();
        Object result;
        if (base instanceof String || base instanceof SafeString) {
            result = stringMethod(base.toString(), name, args);
        } else if (base instanceof Map<?, ?> map) {
            result = mapMethod(map, name, args);
        } else {
            return null;
        }
        if (result == NOT_HANDLED) return null;
        context.setPropertyResolved(true);
        return result;
    }

    private static final Object NOT_HANDLED = new Object();

    private static Object stringMethod(String s, String name, Object[] args) {
        return switch (name) {
            case "startswith" -> prefixTest(s, args, true);
            case "endswith" -> prefixTest(s, args, false);
            case "strip" -> strip(s, arg(args, 0), true, true);
            case "lstrip" -> strip(s, arg(args, 0), true, false);
            case "rstrip" -> strip(s, arg(args, 0), false, true);
            case "split" -> split(s, arg(args, 0), maxsplit(args));
            case "rsplit" -> rsplit(s, arg(args, 0), maxsplit(args));
            case "splitlines" -> s.lines().toList();
            case "upper" -> s.toUpperCase(java.util.Locale.ROOT);
            case "lower" -> s.toLowerCase(java.util.Locale.ROOT);
            case "capitalize" -> s.isEmpty() ? s
                : s.substring(0, 1).toUpperCase(java.util.Locale.ROOT) + s.substring(1).toLowerCase(java.util.Locale.ROOT);
            case "title" -> title(s);
            case "replace" -> replace(s, PythonValues.str(required(args, 0, name)),
                PythonValues.str(required(args, 1, name)), args.length > 2 ? toInt(args[2]) : -1);
            case "find" -> s.indexOf(PythonValues.str(required(args, 0, name)));
            case "rfind" -> s.lastIndexOf(PythonValues.str(required(args, 0, name)));
            case "count" -> count(s, PythonValues.str(required(args, 0, name)));
            case "join" -> join(s, required(args, 0, name));
            case "isspace" -> !s.isEmpty() && s.codePoints().allMatch(PythonValues::isSpace);
            case "isdigit" -> !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isalnum" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            case "islower" -> s.codePoints().anyMatch(Character::isLowerCase)
                && s.codePoints().noneMatch(c -> Character.isUpperCase(c) || Character.isTitleCase(c));
            case "isupper" -> s.codePoints().anyMatch(Character::isUpperCase)
                && s.codePoints().noneMatch(Character::isLowerCase);
            default -> NOT_HANDLED;
        };
    }

    private static Object mapMethod(Map<?, ?> map, String name, Object[] args) {
        return switch (name) {
            case "get" -> {
                Object key = required(args, 0, "get");
                Object key2 = key instanceof SafeString ? key.toString() : key;
                yield map.containsKey(key2) ? map.get(key2) : (args.length > 1 ? args[1] : null);
            }
            case "items" -> new ArrayList<>(map.entrySet());
            case "keys" -> new ArrayList<>(map.keySet());
            case "values" -> new ArrayList<>(map.values());
            default -> NOT_HANDLED;
        };
    }

    private static Object arg(Object[] args, int i) {
        if (i >= args.length) return null;
        Object a = args[i];
        return a instanceof NamedParameter np ? np.getValue() : a;
    }

    private static Object required(Object[] args, int i, String method) {
        if (i >= args.length) {
            throw new IllegalArgumentException(method + "() takes at least " + (i + 1) + " argument(s)");
        }
        return arg(args, i);
    }

    private static int maxsplit(Object[] args) {
        Object m = arg(args, 1);
        return m == null ? -1 : toInt(m);
    }

    private static int toInt(Object o) {
        if (o instanceof Number n) return n.intValue();
        throw new IllegalArgumentException("expected an integer, got " + PythonValues.repr(o));
    }

    /** str.startswith / str.endswith: the prefix may be a tuple (a list here) of alternatives. */
    private static boolean prefixTest(String s, Object[] args, boolean start) {
        Object p = required(args, 0, start ? "startswith" : "endswith");
        List<?> alternatives = PythonValues.asList(p);
        if (alternatives == null) alternatives = List.of(p);
        for (Object alt : alternatives) {
            String a = PythonValues.str(alt);
            if (start ? s.startsWith(a) : s.endsWith(a)) return true;
        }
        return false;
    }

    /** str.strip([chars]): without chars strips Python whitespace (str.isspace), else any of chars. */
    static String strip(String s, Object chars, boolean left, boolean right) {
        String set = chars == null ? null : PythonValues.str(chars);
        int begin = 0, end = s.length();
        if (left) {
            while (begin < end) {
                int cp = s.codePointAt(begin);
                if (!stripped(cp, set)) break;
                begin += Character.charCount(cp);
            }
        }
        if (right) {
            while (end > begin) {
                int cp = s.codePointBefore(end);
                if (!stripped(cp, set)) break;
                end -= Character.charCount(cp);
            }
        }
        return s.substring(begin, end);
    }

    private static boolean stripped(int cp, String set) {
        return set == null ? PythonValues.isSpace(cp) : set.indexOf(cp) >= 0;
    }

    /** str.split(sep=None, maxsplit=-1). */
    private static List<String> split(String s, Object sepArg, int maxsplit) {
        List<String> out = new ArrayList<>();
        if (sepArg == null) {
            // runs of whitespace separate; leading/trailing whitespace gives no empty strings
            int i = 0, n = s.length();
            while (true) {
                while (i < n && PythonValues.isSpace(s.codePointAt(i))) i += Character.charCount(s.codePointAt(i));
                if (i >= n) break;
                if (maxsplit >= 0 && out.size() == maxsplit) {
                    out.add(s.substring(i));
                    break;
                }
                int j = i;
                while (j < n && !PythonValues.isSpace(s.codePointAt(j))) j += Character.charCount(s.codePointAt(j));
                out.add(s.substring(i, j));
                i = j;
            }
            return out;
        }
        String sep = PythonValues.str(sepArg);
        if (sep.isEmpty()) throw new IllegalArgumentException("split(): empty separator");
        int from = 0;
        while (maxsplit < 0 || out.size() < maxsplit) {
            int at = s.indexOf(sep, from);
            if (at < 0) break;
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    /** str.rsplit(sep=None, maxsplit=-1): as split, counting splits from the right. */
    private static List<String> rsplit(String s, Object sepArg, int maxsplit) {
        if (maxsplit < 0) return split(s, sepArg, -1);
        List<String> out = new ArrayList<>();
        if (sepArg == null) {
            int end = s.length();
            while (true) {
                while (end > 0 && PythonValues.isSpace(s.codePointBefore(end))) end -= Character.charCount(s.codePointBefore(end));
                if (end <= 0) break;
                if (out.size() == maxsplit) {
                    out.add(0, s.substring(0, end));
                    break;
                }
                int b = end;
                while (b > 0 && !PythonValues.isSpace(s.codePointBefore(b))) b -= Character.charCount(s.codePointBefore(b));
                out.add(0, s.substring(b, end));
                end = b;
            }
            return out;
        }
        String sep = PythonValues.str(sepArg);
        if (sep.isEmpty()) throw new IllegalArgumentException("rsplit(): empty separator");
        int end = s.length();
        while (out.size() < maxsplit) {
            int at = s.lastIndexOf(sep, end - sep.length());
            if (at < 0) break;
            out.add(0, s.substring(at + sep.length(), end));
            end = at;
        }
        out.add(0, s.substring(0, end));
        return out;
    }

    private static String replace(String s, String old, String repl, int count) {
        if (count < 0) {
            if (old.isEmpty()) {
                // Python inserts repl between every character and at both ends
                StringBuilder sb = new StringBuilder(repl);
                s.codePoints().forEach(cp -> sb.appendCodePoint(cp).append(repl));
                return sb.toString();
            }
            return s.replace(old, repl);
        }
        StringBuilder sb = new StringBuilder();
        int from = 0, done = 0;
        while (done < count && !old.isEmpty()) {
            int at = s.indexOf(old, from);
            if (at < 0) break;
            sb.append(s, from, at).append(repl);
            from = at + old.length();
            done++;
        }
        return sb.append(s.substring(from)).toString();
    }

    private static int count(String s, String sub) {
        if (sub.isEmpty()) return s.codePointCount(0, s.length()) + 1;
        int n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) n++;
        return n;
    }

    private static String join(String sep, Object iterable) {
        Iterable<?> items;
        if (PythonValues.asList(iterable) instanceof List<?> l) items = l;
        else if (iterable instanceof Iterable<?> it) items = it;
        else if (iterable instanceof CharSequence cs) items = cs.codePoints().mapToObj(Character::toString).toList();
        else throw new IllegalArgumentException("join(): can only join an iterable");
        StringBuilder sb = new StringBuilder();
        Iterator<?> it = items.iterator();
        while (it.hasNext()) {
            Object o = it.next();
            if (!(o instanceof CharSequence) && !(o instanceof SafeString)) {
                throw new IllegalArgumentException("join(): sequence item: expected str instance, "
                    + (o == null ? "NoneType" : o.getClass().getSimpleName()) + " found");
            }
            sb.append(o);
            if (it.hasNext()) sb.append(sep);
        }
        return sb.toString();
    }

    /** str.title(): upper-cases the first letter of every run of letters, lower-cases the rest. */
    private static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean prevCased = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            boolean cased = Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
            sb.appendCodePoint(prevCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp));
            prevCased = cased;
        }
        return sb.toString();
    }

    /** The items of the running for-loops, innermost last (filled by ChatTemplate's for tag). */
    static final class LoopItems {
        private static final ThreadLocal<java.util.ArrayDeque<Object[]>> STACK =
            ThreadLocal.withInitial(java.util.ArrayDeque::new);

        private LoopItems() {}

        static void push(List<Object> items) {
            STACK.get().push(new Object[] {items, null});
        }

        static void pop() {
            STACK.get().pop();
        }

        /** The items of the loop {@code loop}: the innermost running loop not yet bound to another ForLoop. */
        @SuppressWarnings("unchecked")
        static List<Object> of(ForLoop loop) {
            for (Object[] entry : STACK.get()) {
                if (entry[1] == loop) return (List<Object>) entry[0];
            }
            for (Object[] entry : STACK.get()) {
                if (entry[1] == null) {
                    entry[1] = loop;
                    return (List<Object>) entry[0];
                }
            }
            return null;
        }
    }

    /**
     * Property reads Jinjava lacks: {@code loop.previtem}/{@code loop.nextitem}, and indexing a string
     * ({@code text[0]}, {@code text[-1]}). Everything else is left to Jinjava's resolvers.
     */
    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        if (base instanceof ForLoop loop && ("previtem".equals(property) || "nextitem".equals(property))) {
            List<Object> items = LoopItems.of(loop);
            if (items == null) return null;
            int i = loop.getIndex0() + ("previtem".equals(property) ? -1 : 1);
            context.setPropertyResolved(true);
            return i >= 0 && i < items.size() ? items.get(i) : null;
        }
        // Jinjava hands the index over as a string ("0", "-1")
        if ((base instanceof String || base instanceof SafeString) && property != null
            && property.toString().matches("-?\\d{1,9}")) {
            String s = base.toString();
            int index = Integer.parseInt(property.toString());
            int count = s.codePointCount(0, s.length());
            int i = index < 0 ? index + count : index;
            if (i < 0 || i >= count) throw new IllegalArgumentException("string index out of range: " + index);
            context.setPropertyResolved(true);
            int at = s.offsetByCodePoints(0, i);
            return s.substring(at, s.offsetByCodePoints(at, 1));
        }
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {}

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return Object.class;
    }
}
