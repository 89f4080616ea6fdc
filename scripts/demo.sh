#!/usr/bin/env bash
# demo.sh BUILD_DIR — the main job end to end on the built-in default (sensor-suite):
# generate the data, pre-train the bridge (= the hard-alignment baseline), train CodeBind on
# it, evaluate both and print the comparison table and the report's path.
# Environment: DEMO_DIR (default demo_out), DEMO_SIZE (small|full, default small; full is
# ≈ 30 min of compute on 2 cores, most of it the bridge's pre-training), DEMO_SEED.
set -euo pipefail
BUILD=${1:-build/release}
CB="$BUILD/codebind"
OUT=${DEMO_DIR:-demo_out}
SIZE=${DEMO_SIZE:-small}
SEED=${DEMO_SEED:-43}
# Full size: fixed step budgets (configs/*_full.json); small: epochs over the few items.
SUFFIX=""
[ "$SIZE" = full ] && SUFFIX="_full"
PRE_CFG=configs/pretrain_sensor_suite$SUFFIX.json
CB_CFG=configs/codebind_sensor_suite$SUFFIX.json
[ -x "$CB" ] || { echo "demo: $CB not found (build first: make PRESET=release build)"; exit 2; }
mkdir -p "$OUT"
t0=$(date +%s)
step() { echo; echo "== $1 ($(( $(date +%s) - t0 )) s)"; }

step "1/5 generate sensor-suite ($SIZE, seed $SEED)"
if [ ! -f "$OUT/data/items.jsonl" ]; then
  "$CB" data sensor-suite --out "$OUT/data" --size "$SIZE" --seed "$SEED"
fi
step "2/5 pre-train the bridge (vision+text, then audio/imu/depth aligned to vision) = baseline"
"$CB" pretrain --config "$PRE_CFG" --data "$OUT/data" --out "$OUT/bridge"
step "3/5 train CodeBind on the frozen bridge"
"$CB" train --config "$CB_CFG" --data "$OUT/data" --out "$OUT/codebind" --bridge "$OUT/bridge"
step "4/5 evaluate the baseline"
"$CB" eval --run "$OUT/bridge" --data "$OUT/data" --quiet
step "5/5 evaluate CodeBind against the baseline"
"$CB" eval --run "$OUT/codebind" --data "$OUT/data" --baseline "$OUT/bridge" --quiet
echo
cat "$OUT/codebind/report.md" | sed -n '1,200p'
echo
echo "demo finished in $(( $(date +%s) - t0 )) s"
echo "report: $OUT/codebind/report.md   metrics: $OUT/codebind/metrics.json   baseline: $OUT/bridge/metrics.json"
