import json,glob,os
rows=[]
for n in ["llama-q4_k_m","llama-q4_0","llama-q8_0","llama-q6_k","llama-q5_k_m","llama-f16","llama-q3_k_m","llama-q2_k"]:
    for t in (1,2):
        try:
            a=json.load(open(f'/tmp/qb/{n}-t{t}-a.json'))
            l=json.load(open(f'/tmp/qb/{n}-t{t}-l.json'))
        except Exception as e:
            continue
        lpp=[r['avg_ts'] for r in l if r['n_prompt']>0][0]; ltg=[r['avg_ts'] for r in l if r['n_gen']>0][0]
        print(f"| {n.replace('llama-','').upper()} | {t} | {a['kernels']} | {a['tg']['mean']:.2f} | {ltg:.2f} | **{a['tg']['mean']/ltg:.2f}x** | {a['pp']['mean']:.1f} | {lpp:.1f} | {a['pp']['mean']/lpp:.2f}x |")
