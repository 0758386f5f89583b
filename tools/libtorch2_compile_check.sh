#!/bin/bash
# Compile-only check of the engine's torch-facing sources (src/{core,nn,gatys,fast,train,study,report})
# against another LibTorch, e.g. PyTorch 2.x with CUDA on the GPU machine, where OpenCV, CLI11 and
# fmt are missing, so a full build is not possible there.
#
#   tools/libtorch2_compile_check.sh prepare   # here (Debian): header-only deps into .gl/include (ignored by git)
#   tools/libtorch2_compile_check.sh check     # there: carry .gl; writes logs to $OUT (or /tmp/compile-check)
#
# Measured 2026-11-27 on the H200 machine (PyTorch 2.11.0+cu130, g++ 13.3): all 47 files compile in 37 s on
# 16 cores, after fmt::join got its <fmt/ranges.h> (LibTorch 2.11 bundles fmt 12).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
prepare)
  rm -rf .gl/include && mkdir -p .gl/include/impasto
  cp -r /usr/include/fmt /usr/include/nlohmann /usr/include/toml++ /usr/include/CLI .gl/include/
  cp build/generated/impasto/version.h .gl/include/impasto/
  echo "prepared .gl/include ($(du -sh .gl | cut -f1)); carry .gl"
  ;;
check)
  OUT=${OUT:-/tmp/compile-check}
  mkdir -p "$OUT"
  PY=$(command -v python3)
  INC=$($PY - <<'PYEOF'
from torch.utils.cpp_extension import include_paths
paths = None
for attempt in (lambda: include_paths('cuda'), lambda: include_paths(True), lambda: include_paths()):
    try:
        paths = attempt()
        break
    except Exception:
        continue
print(' '.join('-I' + p for p in paths))
PYEOF
)
  ABI=$($PY -c "import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))")
  $PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
  CXX=$(command -v g++ || command -v c++)
  echo "compiler: $($CXX --version | head -1); C++11 ABI $ABI"
  FLAGS="-std=c++17 -fsyntax-only -D_GLIBCXX_USE_CXX11_ABI=$ABI -DFMT_HEADER_ONLY -Iinclude -Isrc -I. -I.gl/include $INC"
  ls src/core/*.cpp src/nn/*.cpp src/gatys/*.cpp src/fast/*.cpp src/train/*.cpp src/study/*.cpp src/report/*.cpp \
    > "$OUT/files.txt"
  start=$(date +%s)
  export CXX FLAGS OUT
  xargs -P "$(nproc)" -I{} sh -c '$CXX $FLAGS {} > "$OUT/$(echo {} | tr / _).log" 2>&1 && echo "ok {}" || echo "FAIL {}"' \
    < "$OUT/files.txt" > "$OUT/results.txt"
  echo "$(grep -c '^ok' "$OUT/results.txt") of $(wc -l < "$OUT/files.txt") files compile ($(( $(date +%s) - start )) s)"
  if grep '^FAIL' "$OUT/results.txt"; then
    for f in $(grep '^FAIL' "$OUT/results.txt" | awk '{print $2}' | head -5); do
      echo "== $f"; grep -m5 error "$OUT/$(echo "$f" | tr / _).log" || true
    done
    exit 1
  fi
  ;;
*)
  echo "usage: $0 prepare|check" >&2; exit 2 ;;
esac
