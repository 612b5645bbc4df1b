#!/usr/bin/env python3
"""Soak, overload and client-disconnect storm against a real `autoglm serve`, with a bounded duration.

Starts the server (the repo's ./autoglm launcher, default model models/default/model.gguf, a fresh data directory
so the audit trail is on), then runs three phases and prints one summary:

  steady     CLIENTS clients, chat completions (every other one streamed), for STEADY seconds
  overload   OVERLOAD clients against a queue of QUEUE, for OVERLOAD_S seconds: 429 + Retry-After expected, no 5xx
  storm      DISCONNECTS streamed requests whose clients reset the connection after the first content chunk

Summary: requests and status counts per phase, 5xx, latency p50/p99, the server's RSS at start and end, stack
traces and SEVERE lines in the server log, the `cancelled` metric against the disconnects made, whether greedy
output is the same before and after the load, and whether `autoglm audit verify` accepts the trail.

Usage: bench/soak/soak.py [--duration 180] [--clients 4] [--model PATH] [--port 18431]
Python 3 standard library only (the client is independent of the server's Java code).
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def chat_body(content, stream, max_tokens):
    return json.dumps({"model": "default", "messages": [{"role": "user", "content": content}], "max_tokens": max_tokens,
                       "temperature": 0, "stream": stream})


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = {}
        self.latencies = []
        self.errors = 0

    def add(self, status, seconds):
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 200:
                self.latencies.append(seconds)

    def fail(self):
        with self.lock:
            self.errors += 1

    def line(self, name):
        lat = sorted(self.latencies)
        pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")
        total = sum(self.statuses.values())
        five = sum(v for k, v in self.statuses.items() if k >= 500)
        codes = " ".join(f"{k}:{v}" for k, v in sorted(self.statuses.items()))
        return (f"{name:9s} requests {total:6d}  5xx {five:3d}  connection errors {self.errors:3d}  "
                f"p50 {pct(0.5):8.1f} ms  p99 {pct(0.99):8.1f} ms  [{codes}]"), five


def request(port, body, stream):
    """One chat request; returns (status, text) after reading the whole answer."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        c.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read().decode("utf-8", "replace")
        if r.status == 200 and stream and "data: [DONE]" not in data:
            return -1, data  # a stream without its end
        return r.status, data
    finally:
        c.close()


def run_clients(port, n, seconds, stats, max_tokens):
    stop = time.time() + seconds

    def worker(i):
        k = 0
        while time.time() < stop:
            stream = (i + k) % 2 == 1
            t = time.time()
            try:
                status, _ = request(port, chat_body(f"client {i} request {k}", stream, max_tokens), stream)
                stats.add(status, time.time() - t)
                if status == 429:
                    time.sleep(0.2)
            except OSError:
                stats.fail()
            k += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def storm(port, count, stats, parallel=8):
    lock = threading.Lock()
    left = [count]

    def worker():
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            t = time.time()
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=60)
                body = chat_body("storm", True, 200).encode()
                s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
                buf = b""
                while b'"content":"' not in buf.replace(b'"content":""', b""):
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    buf += chunk
                status = int(buf.split(b" ", 2)[1]) if buf.startswith(b"HTTP/1.1 ") else -1
                # leave with a reset, mid-answer
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.close()
                stats.add(status, time.time() - t)
            except OSError:
                stats.fail()

    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def metric(port, sample):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=180, help="total seconds of load, split 60/25/15%% over the phases")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--overload-clients", type=int, default=32)
    ap.add_argument("--queue", type=int, default=8)
    ap.add_argument("--disconnects", type=int, default=100)
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "default", "model.gguf"))
    ap.add_argument("--port", type=int, default=18431)
    args = ap.parse_args()

    home = tempfile.mkdtemp(prefix="autoglm-soak-")
    log_path = os.path.join(home, "server.log")
    log = open(log_path, "w")
    cmd = [os.path.join(ROOT, "autoglm"), "serve", "--model", args.model, "--alias", "default", "--port", str(args.port),
           "--queue", str(args.queue), "--home", home]
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 600
        while True:
            if server.poll() is not None:
                sys.exit(f"the server exited ({server.returncode}); see {log_path}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", args.port, timeout=5)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                sys.exit("the server did not start in 600 s")
            time.sleep(0.5)
        greedy = chat_body("greedy check", False, args.max_tokens)
        before = json.loads(request(args.port, greedy, False)[1])["choices"][0]["message"]["content"]
        rss_start = rss_kib(server.pid)
        started = time.time()

        steady, overload, stormed = Stats(), Stats(), Stats()
        run_clients(args.port, args.clients, args.duration * 0.6, steady, args.max_tokens)
        run_clients(args.port, args.overload_clients, args.duration * 0.25, overload, args.max_tokens)
        storm_end = time.time() + args.duration * 0.15
        storm(args.port, args.disconnects, stormed)
        time.sleep(max(0.0, storm_end - time.time()))
        time.sleep(2)  # let the server notice the last disconnects

        after = json.loads(request(args.port, greedy, False)[1])["choices"][0]["message"]["content"]
        rss_end = rss_kib(server.pid)
        cancelled = metric(args.port, 'autoglm_requests_finished_total{model="default",outcome="cancelled"}')
        slots = metric(args.port, 'autoglm_active_slots{model="default"}')
        queue = metric(args.port, 'autoglm_queue_depth{model="default"}')
        elapsed = time.time() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()

    with open(log_path, errors="replace") as f:
        text = f.read()
    traces = len(re.findall(r"^\s+at [\w$.]+\(", text, re.M))
    exceptions = len(re.findall(r"^\S*(Exception|Error)\b", text, re.M))
    severe = len(re.findall(r"SEVERE", text))
    verify = subprocess.run([os.path.join(ROOT, "autoglm"), "audit", "verify", "--home", home], capture_output=True, text=True)

    print(f"soak: {' '.join(cmd)}")
    print(f"load {elapsed:.0f} s; clients {args.clients}, overload {args.overload_clients} (queue {args.queue}), "
          f"disconnects {args.disconnects}, max_tokens {args.max_tokens}")
    fives = 0
    for name, s in (("steady", steady), ("overload", overload), ("storm", stormed)):
        line, five = s.line(name)
        fives += five
        print(line)
    print(f"5xx total {fives}")
    print(f"RSS start {rss_start / 1024:.0f} MiB, end {rss_end / 1024:.0f} MiB")
    print(f"server log: {traces} stack-trace lines, {exceptions} exception lines, {severe} SEVERE")
    print(f"cancelled metric {cancelled:.0f} for {args.disconnects} disconnects; active slots {slots:.0f}, queue {queue:.0f} at the end")
    print(f"greedy output identical before and after: {before == after}")
    print(f"audit verify: exit {verify.returncode}: {verify.stdout.strip().splitlines()[0] if verify.stdout.strip() else verify.stderr.strip()}")
    shutil.rmtree(home, ignore_errors=True)
    ok = fives == 0 and traces == 0 and before == after and verify.returncode == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
