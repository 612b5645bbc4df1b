#!/usr/bin/env python3
"""Multi-turn conversation load through one URL (nginx in front of the replicas): CONVERSATIONS concurrent
conversations of TURNS turns each, every turn sending the whole history so far (system prompt, the earlier user
turns and the answers the server gave) plus a new user message, streamed with usage. Each conversation sends its
own X-Session-Id. Prints one JSON line: aggregate generated tokens/s over the wall time, p50/p95 time to first
token, the fraction of prompt tokens served from the replicas' prefix caches (sum cached_tokens / sum prompt_tokens),
and how many conversations kept all their turns on one replica (nginx's X-Autoglm-Upstream header).

Usage: conversations.py URL LABEL [conversations=8] [turns=4] [max_tokens=32]
Standard library only (http.client), so the numbers are not a client library's."""
import http.client, json, statistics, sys, threading, time, urllib.parse

url, label = sys.argv[1], sys.argv[2]
conversations = int(sys.argv[3]) if len(sys.argv) > 3 else 8
turns = int(sys.argv[4]) if len(sys.argv) > 4 else 4
max_tokens = int(sys.argv[5]) if len(sys.argv) > 5 else 32
u = urllib.parse.urlparse(url)
SYSTEM = ("You are a patient assistant for a hardware shop. Answer briefly, name the aisle, and ask one follow-up "
          "question when the customer is vague. Prices are in euros; never invent stock levels.")
QUESTIONS = ["I need screws for a wooden shelf, conversation {c}.", "How long should they be for 18 mm boards?",
             "Do I need wall plugs as well, and which ones?", "What drill bit goes with those plugs?",
             "Anything else I should buy for the job?", "Thanks, where do I pay?"]
lock = threading.Lock()
ttft, prompt_tokens, cached_tokens, completion_tokens, errors = [], [0], [0], [0], []
sticky = []


def turn(conn, session, messages):
    body = json.dumps({"model": "bench", "messages": messages, "max_tokens": max_tokens, "temperature": 0,
                       "ignore_eos": True, "stream": True, "stream_options": {"include_usage": True}})
    t0 = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", body,
                 {"Content-Type": "application/json", "X-Session-Id": session})
    r = conn.getresponse()
    if r.status != 200:
        raise RuntimeError(f"{r.status} {r.read()[:200]!r}")
    upstream = r.getheader("X-Autoglm-Upstream", "?")
    first, text, usage = None, [], None
    for raw in r:
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        event = json.loads(line[6:])
        if event.get("usage"):
            usage = event["usage"]
        for ch in event.get("choices") or []:
            piece = (ch.get("delta") or {}).get("content")
            if piece:
                if first is None:
                    first = time.perf_counter() - t0
                text.append(piece)
    return first, "".join(text), usage, upstream


def conversation(c):
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    messages = [{"role": "system", "content": SYSTEM}]
    upstreams = set()
    try:
        for t in range(turns):
            messages.append({"role": "user", "content": QUESTIONS[t % len(QUESTIONS)].format(c=c)})
            first, text, usage, upstream = turn(conn, f"{label}-{c}", messages)
            messages.append({"role": "assistant", "content": text})
            upstreams.add(upstream)
            with lock:
                if first is not None:
                    ttft.append(first)
                prompt_tokens[0] += usage["prompt_tokens"]
                cached_tokens[0] += (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
                completion_tokens[0] += usage["completion_tokens"]
    except Exception as e:  # one failed conversation is reported, not hidden
        with lock:
            errors.append(f"conversation {c}: {e}")
    finally:
        conn.close()
    with lock:
        sticky.append(len(upstreams) == 1)


start = time.perf_counter()
threads = [threading.Thread(target=conversation, args=(c,)) for c in range(conversations)]
for th in threads:
    th.start()
for th in threads:
    th.join()
wall = time.perf_counter() - start
q = statistics.quantiles(ttft, n=20, method="inclusive") if len(ttft) > 1 else [float("nan")] * 19
print(json.dumps({"config": label, "conversations": conversations, "turns": turns, "max_tokens": max_tokens,
                  "requests": len(ttft), "errors": errors, "wall_s": round(wall, 2),
                  "tokens_per_s": round(completion_tokens[0] / wall, 1),
                  "ttft_p50_ms": round(statistics.median(ttft) * 1000), "ttft_p95_ms": round(q[18] * 1000),
                  "prompt_tokens": prompt_tokens[0], "cached_tokens": cached_tokens[0],
                  "cached_fraction": round(cached_tokens[0] / max(1, prompt_tokens[0]), 3),
                  "conversations_on_one_replica": sum(sticky)}))
