#!/usr/bin/env bash
# fuzz.sh BUILD_DIR SECONDS — runs every fuzz_* target for SECONDS each on its seed corpus.
set -euo pipefail
BUILD=$1; SECS=${2:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
for f in "$BUILD"/fuzz_*; do
  [ -x "$f" ] || continue
  name=$(basename "$f")
  corpus="$BUILD/corpus_$name"; mkdir -p "$corpus"
  seeds="$ROOT/fuzz/seeds/${name#fuzz_}"
  args=("$corpus"); [ -d "$seeds" ] && args+=("$seeds")
  echo "fuzz: $name for ${SECS}s"
  "$f" -max_total_time="$SECS" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=0 "${args[@]}" 2>"$BUILD/$name.log" \
    || { echo "fuzz: $name FAILED"; tail -40 "$BUILD/$name.log"; exit 1; }
  grep -E "^Done|#[0-9]+.*DONE" "$BUILD/$name.log" | tail -1 || true
done
