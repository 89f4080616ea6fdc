#!/usr/bin/env bash
# setup.sh — idempotent machine set-up for codebind on Debian 12 (run as root or with sudo).
# Installs every Debian package the build, tests, demo and benchmarks need, and selects the
# OpenMP variant of OpenBLAS for libblas.so.3 / liblapack.so.3 (the reference
# libblas3 is 33x slower and the pthread OpenBLAS fights libtorch's OpenMP pool).
set -euo pipefail

PKGS=(
  # build
  cmake ninja-build ccache g++ make pkg-config git
  # tensors + BLAS + distributed
  libtorch-dev libopenblas0-openmp libgloo-dev
  # foundation libraries
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
  zlib1g-dev
  # media decoding
  libstb-dev libpng-dev libjpeg62-turbo-dev libsndfile1-dev
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev
  # sensor-suite generator (speech, fonts, number words, pen strokes, textures)
  libespeak-ng-dev espeak-ng-data libfreetype-dev libicu-dev hershey-fonts-data gimp-data
  fonts-dejavu-core fonts-liberation2 fonts-freefont-ttf fonts-noto-core fonts-urw-base35
  # fuzzing and benchmarks baseline
  clang libclang-rt-14-dev libfaiss-dev
  # the Python package (python/): Debian's torch for python3 is built from the same sources as
  # libtorch-dev, so tensors cross without a copy
  python3-dev python3-torch pybind11-dev python3-pytest python3-build python3-venv
  # the HTML report is checked by rendering it in a headless browser
  chromium
)

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all ${#PKGS[@]} packages present"
fi

# Select OpenBLAS (OpenMP) for BLAS and LAPACK.
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
for lib in libblas.so.3 liblapack.so.3; do
  target=/usr/lib/$arch/openblas-openmp/$lib
  if [ -e "$target" ]; then
    current=$(update-alternatives --query "$lib-$arch" 2>/dev/null | awk '/^Value:/{print $2}')
    if [ "$current" != "$target" ]; then
      $SUDO update-alternatives --set "$lib-$arch" "$target" >/dev/null
      echo "setup: $lib -> $target"
    fi
  fi
done
