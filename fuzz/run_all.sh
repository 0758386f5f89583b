#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each over its committed corpus (fuzz/corpus/<target>, read only)
# plus a working corpus in build-fuzz/corpus/<target> (what the fuzzer adds; kept between runs).
# CI runs `fuzz/run_all.sh 30` (2 min); a real session is `fuzz/run_all.sh 600` (40 min at JOBS=2).
#
#   fuzz/run_all.sh SECONDS [TARGET...]      JOBS=N runs N targets at a time (default 2)
#
# Prints per target: executions, exec/s, coverage (cov = edges, ft = features, from libFuzzer's last
# status line), corpus size (committed + working) and crashes. A crash, leak, timeout or out-of-memory leaves its
# input in build-fuzz/artifacts/<target>/ and makes the script exit 1: minimise it with
#   build-fuzz/bin/fuzz_<target> -minimize_crash=1 -runs=10000 <input>
# and add it to fuzz/regressions/<target>/ (the unit tests replay that folder).
# Builds with `cmake --preset fuzz && cmake --build --preset fuzz` first.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
seconds=$1
shift
all_targets=(torch_legacy torch_zip safetensors style_model image job_request study_spec_toml study_spec_json)
targets=("${@:-${all_targets[@]}}")
jobs=${JOBS:-2}
bin=build-fuzz/bin
out=build-fuzz/fuzz-runs
mkdir -p "$out"

dict_for() {
  case $1 in
  style_model) echo fuzz/dict/safetensors.dict ;;
  study_spec_*) echo fuzz/dict/study_spec.dict ;;
  *) [ -f "fuzz/dict/$1.dict" ] && echo "fuzz/dict/$1.dict" ;;
  esac
  return 0
}

# The image target decodes under a 1 Mpx limit (kImageFuzzMaxPixels), which needs at most 32 MB per
# buffer (4 channels of 64-bit samples): any single allocation over 128 MB is a decoder going past
# the limit. The other parsers cap what they materialise at 1 GiB per tensor or less.
malloc_limit_for() {
  case $1 in
  image) echo 128 ;;
  *) echo 1100 ;;
  esac
}

run_one() {
  local target=$1
  local work=build-fuzz/corpus/$target artifacts=build-fuzz/artifacts/$target
  mkdir -p "$work" "$artifacts"
  touch "$out/$target.start"
  local dict
  dict=$(dict_for "$target")
  local args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb="$(malloc_limit_for "$target")"
              -print_final_stats=1 -artifact_prefix="$artifacts/")
  [ -n "$dict" ] && args+=(-dict="$dict")
  local status=0
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$bin/fuzz_$target" "${args[@]}" "$work" "fuzz/corpus/$target" >"$out/$target.log" 2>&1 || status=$?
  echo "$status" >"$out/$target.status"
}

for target in "${targets[@]}"; do
  if [ ! -x "$bin/fuzz_$target" ]; then
    echo "run_all: $bin/fuzz_$target is missing; build it: cmake --preset fuzz && cmake --build --preset fuzz" >&2
    exit 2
  fi
done

for target in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
    wait -n || true
  done
  run_one "$target" &
done
wait

failed=0
printf '%-16s %12s %9s %7s %7s %7s %8s  %s\n' target executions "exec/s" cov ft corpus crashes result
for target in "${targets[@]}"; do
  log=$out/$target.log
  status=$(cat "$out/$target.status")
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corpus=$(find "build-fuzz/corpus/$target" "fuzz/corpus/$target" -type f | wc -l)
  crashes=$(find "build-fuzz/artifacts/$target" -type f -newer "$out/$target.start" | wc -l)
  result=ok
  if [ "$status" != 0 ]; then
    result="FAILED (exit $status): $(grep -m1 -E 'ERROR|SUMMARY|oracle failed|Test unit written' "$log" || tail -1 "$log")"
    failed=1
  fi
  printf '%-16s %12s %9s %7s %7s %7s %8s  %s\n' "$target" "${executions:--}" "${rate:--}" "${cov:--}" "${ft:--}" \
    "$corpus" "$crashes" "$result"
done
echo "logs: $out/<target>.log; crash inputs: build-fuzz/artifacts/<target>/"
exit $failed
