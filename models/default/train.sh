#!/usr/bin/env bash
# Trains the bundled default model from Debian's fortune packages, exactly as shipped (see MODEL_CARD.md).
# Needs: apt-get install fortunes fortunes-zh. Takes about 30 minutes on a quiet 2-core machine.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
FORTUNES=/usr/share/games/fortunes
WORK="${WORK:-$(mktemp -d)}"
for f in tang300 song100 chinese fortunes literature wisdom people science love platitudes; do
  [ -f "$FORTUNES/$f" ] || { echo "missing $FORTUNES/$f: apt-get install fortunes fortunes-zh" >&2; exit 1; }
done
# The Chinese fortune files colour their titles with ANSI escape codes: strip them so the model learns text.
strip_ansi() { sed -e 's/\x1b\[[0-9;]*m//g' "$@"; }
strip_ansi "$FORTUNES"/tang300 "$FORTUNES"/song100 > "$WORK/poems-zh.txt"
strip_ansi "$FORTUNES"/chinese > "$WORK/debian-zh-all.txt"
head -c 700000 "$WORK/debian-zh-all.txt" > "$WORK/debian-zh.txt"   # not a pipe: head closing it early would fail the pipefail
cat "$FORTUNES"/{fortunes,literature,wisdom,people,science,love,platitudes} > "$WORK/fortunes-en.txt"

"$ROOT/autoglm" train "$WORK/out" --arch glm4 --dim 256 --layers 4 --heads 8 --kv-heads 2 --ctx 256 --batch 8 \
  --vocab 4096 --steps "${STEPS:-1500}" --lr 2e-3 --seed 42 \
  --corpus "$WORK/poems-zh.txt" --corpus "$WORK/debian-zh.txt" --corpus "$WORK/fortunes-en.txt"
"$ROOT/autoglm" convert "$WORK/out" "$HERE/model.gguf" --type f16
cp "$WORK/out/loss.png" "$HERE/loss.png"
cp "$WORK/out/loss.tsv" "$HERE/loss.tsv" 2>/dev/null || true
echo "trained model: $HERE/model.gguf (work files in $WORK)"
