import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Load client for bench/serve: N concurrent clients, each sending R /v1/completions requests one after the other
 * (ignore_eos, so every request generates exactly max_tokens tokens; the same body works against llama-server).
 * Per level prints one JSON line: aggregate generated tokens/s (completion tokens from the usage / wall time of the
 * level), p50/p95 time to first token (request sent to first chunk with a text field, even an empty one; not
 * streamed: to the whole response), p50/p95 inter-token latency (gaps between successive text chunks over all requests of the level;
 * streamed only) and the mean per-request decode rate after the first token. Plain sockets and regexes.
 *
 * <p>{@code java LoadClient.java BASE_URL MODEL "1 4 8 16" REQUESTS MAX_TOKENS PROMPT [STREAM=true] [TEMPERATURE=1.0]}
 */
public class LoadClient {
    static final Pattern USAGE = Pattern.compile("\"completion_tokens\"\\s*:\\s*(\\d+)");
    /**
     * A chunk of a completion's text, empty or not: llama-server sends one chunk per token and leaves the text empty
     * while a character's UTF-8 bytes are incomplete (on random-weight models often), so an empty text is a token too.
     */
    static final Pattern TEXT = Pattern.compile("\"text\"\\s*:\\s*\"");

    record Result(double ttftMs, long tokens, double decodeTokensPerSecond, List<Double> gapsMs) {
    }

    public static void main(String[] args) throws Exception {
        String base = args[0], model = args[1];
        int requests = Integer.parseInt(args[3]), maxTokens = Integer.parseInt(args[4]);
        String prompt = args[5];
        boolean stream = args.length <= 6 || Boolean.parseBoolean(args[6]);
        String temperature = args.length > 7 ? args[7] : "1.0";
        URI uri = URI.create(base);
        String body = "{\"model\":\"" + model + "\",\"prompt\":\"" + prompt.replace("\"", "\\\"") + "\",\"max_tokens\":" + maxTokens
                + ",\"temperature\":" + temperature + ",\"ignore_eos\":true,\"stream\":" + stream
                + (stream ? ",\"stream_options\":{\"include_usage\":true}}" : "}");
        for (String level : args[2].trim().split("\\s+")) {
            int clients = Integer.parseInt(level);
            List<Result> results = Collections.synchronizedList(new ArrayList<>());
            AtomicLong failures = new AtomicLong();
            long start = System.nanoTime();
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    for (int r = 0; r < requests; r++) {
                        try {
                            results.add(one(uri, body, stream));
                        } catch (Exception e) {
                            failures.incrementAndGet();
                            System.err.println("request failed: " + e);
                        }
                    }
                }));
            }
            for (Thread t : threads) t.join();
            double wall = (System.nanoTime() - start) / 1e9;
            long tokens = results.stream().mapToLong(Result::tokens).sum();
            List<Double> ttft = results.stream().map(Result::ttftMs).sorted().toList();
            List<Double> gaps = results.stream().flatMap(x -> x.gapsMs().stream()).sorted().toList();
            double decode = results.stream().mapToDouble(Result::decodeTokensPerSecond).average().orElse(0);
            System.out.printf("{\"clients\":%d,\"stream\":%s,\"requests\":%d,\"failures\":%d,\"max_tokens\":%d,\"tokens\":%d,\"wall_s\":%.2f,"
                            + "\"aggregate_tokens_per_s\":%.1f,\"ttft_p50_ms\":%s,\"ttft_p95_ms\":%s,\"itl_p50_ms\":%s,\"itl_p95_ms\":%s,"
                            + "\"per_request_decode_tokens_per_s\":%.1f}%n",
                    clients, stream, results.size(), failures.get(), maxTokens, tokens, wall, tokens / wall,
                    json(percentile(ttft, 50)), json(percentile(ttft, 95)), json(percentile(gaps, 50)), json(percentile(gaps, 95)), decode);
        }
    }

    /** A number for the JSON line, or null (JSON has no NaN) when there was nothing to measure. */
    static String json(double v) {
        return Double.isNaN(v) ? "null" : String.format("%.1f", v);
    }

    /** Nearest-rank percentile. */
    static double percentile(List<Double> sorted, int p) {
        if (sorted.isEmpty()) return Double.NaN;
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
    }

    /**
     * One streaming request over a plain socket: the whole request in one write with TCP_NODELAY (java.net.http
     * writes the headers and the body separately, and Nagle's algorithm then holds the body back until the
     * server's delayed ACK, adding ~40 ms to every time to first token), the chunked response decoded here.
     */
    static Result one(URI base, String body, boolean stream) throws Exception {
        byte[] payload = body.getBytes(StandardCharsets.UTF_8);
        String head = "POST /v1/completions HTTP/1.1\r\nHost: " + base.getHost() + ":" + base.getPort()
                + "\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nConnection: close\r\nContent-Length: "
                + payload.length + "\r\n\r\n";
        byte[] head8 = head.getBytes(StandardCharsets.US_ASCII);
        byte[] request = Arrays.copyOf(head8, head8.length + payload.length);
        System.arraycopy(payload, 0, request, head8.length, payload.length);
        try (Socket socket = new Socket()) {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(base.getHost(), base.getPort()), 10_000);
            long sent = System.nanoTime();
            socket.getOutputStream().write(request);
            socket.getOutputStream().flush();
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
            String status = line(in);
            if (!status.contains(" 200 ")) throw new IllegalStateException(status);
            boolean chunked = false;
            for (String h; !(h = line(in)).isEmpty(); ) {
                if (h.toLowerCase().startsWith("transfer-encoding:") && h.toLowerCase().contains("chunked")) chunked = true;
            }
            long first = -1, last = -1, tokens = 0, textChunks = 0;
            List<Double> gaps = new ArrayList<>();
            StringBuilder whole = new StringBuilder();
            StringBuilder pending = new StringBuilder();
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            while (true) {
                byte[] piece;
                if (chunked) {
                    int size = Integer.parseInt(line(in).split(";")[0].trim(), 16);
                    if (size == 0) break;
                    piece = new byte[size];
                    in.readFully(piece);
                    line(in);
                } else {
                    piece = new byte[4096];
                    int n = in.read(piece);
                    if (n < 0) break;
                    piece = Arrays.copyOf(piece, n);
                }
                bytes.write(piece);
                pending.append(new String(bytes.toByteArray(), StandardCharsets.UTF_8));
                if (!stream) {
                    whole.append(pending);
                    pending.setLength(0);
                    continue;
                }
                bytes.reset();
                int nl;
                while ((nl = pending.indexOf("\n")) >= 0) {
                    String l = pending.substring(0, nl);
                    pending.delete(0, nl + 1);
                    if (!l.startsWith("data: ") || l.equals("data: [DONE]")) continue;
                    if (TEXT.matcher(l).find()) {
                        long now = System.nanoTime();
                        if (first < 0) first = now;
                        else gaps.add((now - last) / 1e6);
                        last = now;
                        textChunks++;
                    }
                    Matcher u = USAGE.matcher(l);
                    if (u.find()) tokens = Long.parseLong(u.group(1));
                }
            }
            long end = System.nanoTime();
            if (!stream) {
                Matcher u = USAGE.matcher(whole);
                if (!u.find()) throw new IllegalStateException("no usage in the response");
                return new Result((end - sent) / 1e6, Long.parseLong(u.group(1)), 0, gaps);
            }
            if (first < 0) throw new IllegalStateException("no text streamed");
            if (tokens == 0) tokens = textChunks; // a server that sends no usage chunk: one token per text chunk
            double decodeSeconds = (end - first) / 1e9;
            return new Result((first - sent) / 1e6, tokens, decodeSeconds > 0 ? (tokens - 1) / decodeSeconds : 0, gaps);
        }
    }

    /** One CRLF-terminated header or chunk-size line. */
    static String line(DataInputStream in) throws Exception {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') if (c != '\r') sb.append((char) c);
        return sb.toString();
    }
}
