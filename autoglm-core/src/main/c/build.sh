#!/bin/sh
# Builds the optional native kernel library (libautoglm_kernels.so) into $1/native/<os>-<arch>/, where
# NativeKernels looks for it on the class path (so it ships in autoglm-core's jar). Run by Maven
# (exec-maven-plugin, phase compile). Without a C compiler, or on an OS/arch we do not build for, it prints why
# and exits 0: the pure-Java kernels are the path that works everywhere.
set -eu
OUT_ROOT="$1"
SRC="$(cd "$(dirname "$0")" && pwd)"
CC_BIN="${CC:-}"
if [ -z "$CC_BIN" ]; then
  for c in cc gcc clang; do
    if command -v "$c" >/dev/null 2>&1; then CC_BIN="$c"; break; fi
  done
fi
if [ -z "$CC_BIN" ]; then
  echo "autoglm native kernels: no C compiler (cc/gcc/clang) found; skipped, the pure-Java kernels will be used"
  exit 0
fi
case "$(uname -s)" in
  Linux) os=linux ;;
  *) echo "autoglm native kernels: $(uname -s) is not built for; skipped (pure-Java kernels)"; exit 0 ;;
esac
case "$(uname -m)" in
  x86_64|amd64) arch=x86_64 ;;
  aarch64|arm64) arch=aarch64 ;;
  *) echo "autoglm native kernels: $(uname -m) is not built for; skipped (pure-Java kernels)"; exit 0 ;;
esac
DIR="$OUT_ROOT/native/$os-$arch"
LIB="$DIR/libautoglm_kernels.so"
if [ -f "$LIB" ] && [ -z "$(find "$SRC" -newer "$LIB" -type f -print -quit)" ]; then
  exit 0 # up to date
fi
mkdir -p "$DIR"
TMP="$LIB.tmp.$$"
# -O2 plus the per-function target attributes in the source pick the ISA; no -march, so the library runs on any
# CPU of the architecture and chooses its variant at start-up.
if "$CC_BIN" -O2 -std=c11 -D_DEFAULT_SOURCE -fPIC -shared -fvisibility=hidden -Wall -o "$TMP" "$SRC/autoglm_kernels.c" -lm; then
  mv -f "$TMP" "$LIB"
  echo "autoglm native kernels: built $LIB with $CC_BIN"
else
  rm -f "$TMP"
  echo "autoglm native kernels: $CC_BIN failed; skipped (pure-Java kernels)"
fi
