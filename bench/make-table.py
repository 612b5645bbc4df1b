#!/usr/bin/env python3
"""Markdown table from a bench/run-e2e.sh results file (JSON lines). Each engine's runs for one model and thread
count are pooled over the alternating orders; ratios are autoglm / llama.cpp; roofline = bandwidth at that
thread count / weight bytes read per token."""
import json, statistics, sys
from collections import defaultdict

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
meta = next(r["meta"] for r in rows if "meta" in r)
end = next((r["meta_end"] for r in rows if "meta_end" in r), {})
bw = {r["threads"]: r["bandwidth_bytes_per_s"] for r in rows if "bandwidth_bytes_per_s" in r}
runs = defaultdict(lambda: {"pp": [], "tg": [], "load": [], "rss": [], "size": None, "wpt": None})
for r in rows:
    if "engine" not in r:
        continue
    k = (r["name"], r["threads"], r["engine"])
    d = runs[k]
    d["pp"] += r["pp"]["runs"]
    d["tg"] += r["tg"]["runs"]
    d["load"].append(r.get("load_ms") or r.get("loadMs"))
    if r["engine"] == "autoglm":
        d["size"], d["wpt"] = r["size_bytes"], r["weight_bytes_per_token"]
        d["rss"].append(r["peak_rss_bytes"])

def ms(v):
    return f"{statistics.mean(v):.2f} ± {statistics.stdev(v) if len(v) > 1 else 0:.2f}"

print(f"Machine: {meta['cpu']}, {meta['cores']} cores; {meta['java']}; node {meta['node']}; "
      f"load average at start {meta['loadavg']}, at end {end.get('loadavg', '?')}; {meta['date']}")
print()
print("Memory read bandwidth: " + ", ".join(f"{t} thread{'s' if t > 1 else ''} {b / 1e9:.1f} GB/s" for t, b in sorted(bw.items())))
print()
print(f"| model | file | threads | pp{meta['pp']} autoglm t/s | pp llama.cpp t/s | pp ratio | tg{meta['tg']} autoglm t/s | tg llama.cpp t/s | tg ratio | roofline t/s | autoglm % roofline | llama.cpp % roofline | autoglm peak RSS |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
names = sorted({k[0] for k in runs}, key=lambda n: (n.split("-")[0], ["q4_0", "q8_0", "f16"].index(n.split("-")[1]) if n.split("-")[1] in ["q4_0", "q8_0", "f16"] else 9))
for name in names:
    for t in sorted({k[1] for k in runs if k[0] == name}):
        a, l = runs[(name, t, "autoglm")], runs.get((name, t, "llama.cpp"))
        if not l or not a["tg"]:
            continue
        roof = bw.get(t, 0) / a["wpt"] if a["wpt"] and a["wpt"] > 0 and t in bw else float("nan")
        atg, ltg = statistics.mean(a["tg"]), statistics.mean(l["tg"])
        app, lpp = statistics.mean(a["pp"]), statistics.mean(l["pp"])
        print(f"| {name} | {a['size'] / 2**30:.2f} GiB | {t} | {ms(a['pp'])} | {ms(l['pp'])} | {app / lpp:.2f}× | "
              f"{ms(a['tg'])} | {ms(l['tg'])} | {atg / ltg:.2f}× | {roof:.1f} | {100 * atg / roof:.0f}% | {100 * ltg / roof:.0f}% | "
              f"{max(a['rss']) / 2**30:.2f} GiB |")
