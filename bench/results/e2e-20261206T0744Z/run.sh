#!/bin/bash
cd /work/benchtree
export LD_LIBRARY_PATH=/work/llamacpp-src/build/bin
LB=/work/llamacpp-src/build/bin/llama-bench
i=0
for F in /work/kq-models/llama-q4_k_m.gguf /work/kq-models/llama-q4_0.gguf /work/kq-models/llama-q8_0.gguf /work/kq-models/llama-q6_k.gguf /work/kq-models/llama-q5_k_m.gguf /work/kq-models/llama-f16.gguf /work/kq-models/llama-q3_k_m.gguf /work/kq-models/llama-q2_k.gguf; do
  for t in 1 2; do
    n=$(basename $F .gguf)
    a() { ./autoglm bench -m $F -p 128 -n 64 -r 2 -t $t --json > /tmp/qb/$n-t$t-a.json 2>/tmp/qb/$n-t$t-a.err; }
    l() { $LB -m $F -p 128 -n 64 -r 2 -t $t -o json > /tmp/qb/$n-t$t-l.json 2>/dev/null; }
    if [ $((i % 2)) = 0 ]; then a; l; else l; a; fi
    i=$((i+1))
    echo "$n t$t $(date +%T) $(cut -d' ' -f1-3 /proc/loadavg)" >> /tmp/qb/progress
  done
done
echo ALLDONE >> /tmp/qb/progress
