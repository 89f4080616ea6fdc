# codebind — convenience wrapper around CMake presets.
#   make demo   set-up, build, generate sensor-suite, pre-train the bridge, train CodeBind, evaluate
#   make test   set-up, build, run every test (unit, golden parity, fuzz smoke)
#   make build  build only (preset PRESET, default ci)
#   make python build the Python package and install it for Debian's python3 (/usr/local)
PRESET ?= ci
BUILD  := build/$(PRESET)
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime
export CCACHE_MAXSIZE ?= 5G

.PHONY: setup build test demo fuzz bench clean python

setup:
	@$(SUDO) bash scripts/setup.sh

build:
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET)

test: setup
	@$(MAKE) --no-print-directory build
	@bash scripts/run_tests.sh $(BUILD)

demo: setup
	@cmake --preset release >/dev/null
	@cmake --build build/release --parallel $$(nproc) --target codebind
	@bash scripts/demo.sh build/release

fuzz:
	@cmake --preset fuzz >/dev/null && cmake --build build/fuzz
	@bash scripts/fuzz.sh build/fuzz $${FUZZ_SECONDS:-600}

python: setup
	@cmake --preset release >/dev/null
	@cmake --build build/release --parallel $$(nproc) --target codebind_python_package
	@bash scripts/install_python.sh build/release

bench:
	@$(MAKE) --no-print-directory PRESET=release build
	@echo "benchmarks: build/release/codebind_bench --list"

clean:
	rm -rf build
