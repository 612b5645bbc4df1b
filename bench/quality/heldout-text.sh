#!/usr/bin/env bash
# Writes the held-out evaluation text for the bundled default model to $1 (default /tmp/autoglm-heldout.txt):
# text from Debian's fortune packages that models/default/train.sh never trained on: the part of `chinese` after the
# first 700000 bytes (training took only those) and the English `computers` file (not among the training files).
# Needs: apt-get install fortunes fortunes-zh.
set -euo pipefail
OUT="${1:-/tmp/autoglm-heldout.txt}"
F=/usr/share/games/fortunes
for f in chinese computers; do
  [ -f "$F/$f" ] || { echo "missing $F/$f: apt-get install fortunes fortunes-zh" >&2; exit 1; }
done
# Same ANSI-colour stripping as train.sh; start after the first newline so no UTF-8 character is cut.
# (Temporary files, not pipes into head: head closing a pipe early would fail the pipefail.)
tail -c +700001 "$F/chinese" | sed -e '1d' -e 's/\x1b\[[0-9;]*m//g' > "$OUT.zh"
{ head -c 120000 "$OUT.zh"; echo; head -c 120000 "$F/computers"; } > "$OUT.tmp"
rm -f "$OUT.zh"
mv "$OUT.tmp" "$OUT"
echo "$OUT: $(wc -c < "$OUT") bytes" >&2
