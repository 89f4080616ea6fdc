#!/usr/bin/env bash
# demo.sh BUILD_DIR — the main job end to end on the built-in default (sensor-suite):
# generate the data, pre-train the bridge (= the hard-alignment baseline), train CodeBind on
# it, evaluate both and print the comparison table and the report's path.
# Environment: DEMO_DIR (default demo_out), DEMO_SEED (default 43), DEMO_SIZE:
#   demo  (default) the full-size data (24400 items) with a small fast bridge (width 64, 2 blocks,
#         32×32 images; configs/*_demo.json): ≈ 10 min of compute on 2 cores;
#   full  the full-size data and bridge of docs/results.md (configs/*_full.json): ≈ 30 min;
#   small the small data set (a smoke run: the bridge cannot learn from 120 images).
set -euo pipefail
BUILD=${1:-build/release}
CB="$BUILD/codebind"
OUT=${DEMO_DIR:-demo_out}
SIZE=${DEMO_SIZE:-demo}
SEED=${DEMO_SEED:-43}
case "$SIZE" in
  demo) SUFFIX="_demo"; DATA_SIZE=full ;;
  full) SUFFIX="_full"; DATA_SIZE=full ;;
  small) SUFFIX=""; DATA_SIZE=small ;;
  *) echo "demo: DEMO_SIZE must be demo, full or small (got '$SIZE')"; exit 2 ;;
esac
PRE_CFG=configs/pretrain_sensor_suite$SUFFIX.json
CB_CFG=configs/codebind_sensor_suite$SUFFIX.json
[ -x "$CB" ] || { echo "demo: $CB not found (build first: make PRESET=release build)"; exit 2; }
mkdir -p "$OUT"
DATA="$OUT/data-$DATA_SIZE-$SEED"   # generated once per size and seed, reused by later demos
t0=$(date +%s)
step() { echo; echo "== $1 ($(( $(date +%s) - t0 )) s)"; }

step "1/5 generate sensor-suite ($DATA_SIZE, seed $SEED)"
if [ ! -f "$DATA/items.jsonl" ]; then
  "$CB" data sensor-suite --out "$DATA" --size "$DATA_SIZE" --seed "$SEED"
fi
step "2/5 pre-train the bridge (vision+text, then audio/imu/depth aligned to vision) = baseline"
"$CB" pretrain --config "$PRE_CFG" --data "$DATA" --out "$OUT/bridge" --force
step "3/5 train CodeBind on the frozen bridge"
"$CB" train --config "$CB_CFG" --data "$DATA" --out "$OUT/codebind" --bridge "$OUT/bridge" --force
step "4/5 evaluate the baseline"
"$CB" eval --run "$OUT/bridge" --data "$DATA" --quiet
step "5/5 evaluate CodeBind against the baseline"
echo
"$CB" eval --run "$OUT/codebind" --data "$DATA" --baseline "$OUT/bridge" --quiet --summary
echo
echo "demo finished in $(( $(date +%s) - t0 )) s"
echo "full report: $OUT/codebind/report.html (open in a browser; tables sortable) and $OUT/codebind/report.md"
echo "metrics: $OUT/codebind/metrics.json   baseline: $OUT/bridge/metrics.json"
