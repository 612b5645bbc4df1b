package ai.autoglm.train;

import ai.autoglm.core.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Training text from files: UTF-8, each file one or more documents. A line holding only {@code %} separates
 * documents (the fortune(6)/strfile format of Debian's {@code fortunes} and {@code fortunes-zh} files), so each
 * fortune becomes one document; documents are joined with the end-of-text token when tokenized.
 */
public final class TrainingCorpus {
    private static final Pattern FORTUNE_SEPARATOR = Pattern.compile("(?m)^%\\r?\\n?");
    /** Refuse single files larger than this: they are read whole into memory. */
    private static final long MAX_FILE_BYTES = 1L << 30;

    private TrainingCorpus() {
    }

    /** The documents of all files, in order; empty documents are dropped. */
    public static List<String> readDocuments(List<Path> files) {
        List<String> docs = new ArrayList<>();
        for (Path f : files) {
            String text = readUtf8(f);
            for (String d : FORTUNE_SEPARATOR.split(text)) {
                if (!d.isBlank()) docs.add(d);
            }
        }
        if (docs.isEmpty()) throw new IllegalArgumentException("the corpus " + files + " holds no text");
        return docs;
    }

    /** The token ids of the documents, each followed by {@code eosId} (when it is not negative). */
    public static int[] tokenize(Tokenizer tokenizer, List<String> docs, int eosId) {
        int[] out = new int[1024];
        int n = 0;
        for (String d : docs) {
            int[] ids = tokenizer.encode(d, false);
            int need = n + ids.length + 1;
            if (need > out.length) out = java.util.Arrays.copyOf(out, Math.max(need, out.length * 2));
            System.arraycopy(ids, 0, out, n, ids.length);
            n += ids.length;
            if (eosId >= 0) out[n++] = eosId;
        }
        return java.util.Arrays.copyOf(out, n);
    }

    private static String readUtf8(Path f) {
        try {
            if (!Files.isRegularFile(f)) throw new NoSuchFileException(f.toString());
            if (Files.size(f) > MAX_FILE_BYTES) throw new IllegalArgumentException(f + ": larger than 1 GiB; split the corpus into smaller files");
            byte[] bytes = Files.readAllBytes(f);
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(f + ": not UTF-8 text");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
