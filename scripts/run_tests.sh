#!/usr/bin/env bash
# run_tests.sh BUILD_DIR — runs the test suite: the gtest executable through ctest, the
# golden parity checks on the shared fixtures, and a short fuzz smoke run of the parsers.
set -euo pipefail
BUILD=${1:-build/ci}
FIX=${CODEBIND_FIXTURES:-$(cd "$(dirname "$0")/.." && pwd)/../shared/fixtures}
export CODEBIND_THREADS=${CODEBIND_THREADS:-2}
status=0
if [ -d "$FIX" ]; then
  echo "== codebind parity $FIX"
  "$BUILD/codebind" parity "$FIX" || status=1
else
  echo "== fixtures not found at $FIX: parity skipped"
fi
if [ "${CODEBIND_SKIP_FUZZ:-0}" != 1 ] && command -v clang++ >/dev/null; then
  echo "== fuzz smoke (${FUZZ_SECONDS:-20}s per target)"
  cmake --preset fuzz >/dev/null && cmake --build build/fuzz >/dev/null
  bash scripts/fuzz.sh build/fuzz "${FUZZ_SECONDS:-20}" || status=1
fi
echo "== ctest"
ctest --test-dir "$BUILD" --output-on-failure -j 2 || status=1
if [ -f "$BUILD/python/codebind/__init__.py" ]; then
  # Debian's interpreter (the one with python3-torch), not whichever python3 is first on PATH.
  echo "== pytest (the Python package)"
  PYTHONPATH="$BUILD/python" CODEBIND_BUILD="$BUILD" CODEBIND_FIXTURES="$FIX" \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider "$(dirname "$0")/../python/tests" || status=1
else
  echo "== pytest skipped: $BUILD/python not built (scripts/setup.sh installs python3-torch and pybind11-dev)"
  status=1
fi
exit $status
