#!/usr/bin/env bash
# Runs the test suite once per CPU code path that can be forced on this machine, so that a
# tolerance tuned to one CPU's kernels shows up here and not on someone else's machine:
#   ATEN_CPU_CAPABILITY  default | avx2 | avx512   ATen's vectorised elementwise kernels
#   OPENBLAS_CORETYPE    Haswell | SkylakeX        the BLAS kernels behind mm (Gram matrices)
#   ONEDNN_MAX_CPU_ISA   AVX512_CORE               bf16 emulated, not native: --precision auto picks fp32
#                        AVX2                      no bf16 kernels at all (bf16 runs are refused)
# Usage: tools/cpu_paths.sh [BUILD_DIR] [ctest args...]   e.g. tools/cpu_paths.sh build -L unit
# Prints one line per path with the failing tests, and exits non-zero when any path failed.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
paths=(
  "native:"
  "aten-default:ATEN_CPU_CAPABILITY=default"
  "aten-avx2:ATEN_CPU_CAPABILITY=avx2"
  "aten-avx512:ATEN_CPU_CAPABILITY=avx512"
  "blas-haswell:OPENBLAS_CORETYPE=Haswell"
  "blas-skylakex:OPENBLAS_CORETYPE=SkylakeX"
  "bf16-emulated:ONEDNN_MAX_CPU_ISA=AVX512_CORE"
  "onednn-avx2:ONEDNN_MAX_CPU_ISA=AVX2"
)
[ -n "${CPU_PATHS:-}" ] && read -r -a paths <<<"$CPU_PATHS"
log_dir=$(mktemp -d /tmp/impasto-cpu-paths.XXXXXX)
status=0
printf 'CPU: %s\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for entry in "${paths[@]}"; do
  name=${entry%%:*}
  setting=${entry#*:}
  start=$(date +%s)
  if env ${setting:+"$setting"} ctest --test-dir "$build" --output-on-failure "$@" >"$log_dir/$name.log" 2>&1; then
    result="all passed"
  else
    status=1
    result="FAILED: $(grep -E '^\s+[0-9]+ - ' "$log_dir/$name.log" | sed -E 's/^\s+[0-9]+ - //; s/ \(.*//' | tr '\n' ' ')"
  fi
  summary=$(grep -E 'tests passed|tests failed' "$log_dir/$name.log" | tail -1)
  printf '%-14s %-34s %4ss  %s  %s\n' "$name" "${setting:-(none)}" "$(($(date +%s) - start))" "$summary" "$result"
done
echo "logs: $log_dir"
exit $status
