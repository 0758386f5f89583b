#!/usr/bin/env bash
# Loads models written by tools/gpu/train_gpu.py with impasto itself and checks what they make, unchanged
# commands only: `models show` of every file, `stylize --method adain|wct --decoders DIR/decoders`, `stylize
# --model FILE` of every transformer, each output at the asked size; and the relu1_1 decoder's reconstruction
# (`--alpha 0`), whose PSNR must reach MIN_RELU1_PSNR (its least-squares start is a good decoder at once).
#
#   tools/gpu/check_models.sh IMPASTO MODELS_DIR [CONTENT STYLE]
#   (MODELS_DIR: decoders/vgg19-relu*.impasto and <style>.impasto, as the archive of run_on_gpu.sh unpacks)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
impasto="$1"
dir="$2"
shared="${IMPASTO_SHARED_DIR:-$here/../../../shared}"
content="${3:-$shared/images/content/kodim01.png}"
style="${4:-$shared/images/style/udnie.jpg}"
size="${SIZE:-256}"
min_relu1="${MIN_RELU1_PSNR:-25}"
threads=(--threads "${THREADS:-1}")
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=0

field() { sed -n "s/.*\"$1\": *\([0-9.e+-]*\).*/\1/p" | head -1; }
# The output's long side must be the asked size; prints "WxH".
check_size() {
  local json w h
  json="$("$impasto" evaluate "$1" --reference "$content" --json)"
  w="$(field width <<< "$json")"
  h="$(field height <<< "$json")"
  echo "${w}x${h}"
  [[ "$w" == "$size" || "$h" == "$size" ]] || { echo "FAIL: $1 is ${w}x${h}, not $size on its long side" >&2; return 1; }
}

for f in "$dir"/decoders/*.impasto "$dir"/*.impasto; do
  [[ -f "$f" ]] || continue
  hardware="$("$impasto" models show "$f" | sed -n 's/.*"hardware": *"\(.*\)".*/\1/p' | head -1)"
  echo "loads: $(basename "$f") ($hardware)"
done

if [[ -d "$dir/decoders" ]]; then
  for method in adain wct; do
    "$impasto" stylize "$content" "$style" --method "$method" --decoders "$dir/decoders" --size "$size" \
      "${threads[@]}" -q -o "$work/$method.png"
    dims="$(check_size "$work/$method.png")" || failed=1
    echo "stylize --method $method: $dims"
  done
  if [[ -f "$dir/decoders/vgg19-relu1_1.impasto" ]]; then
    "$impasto" stylize "$content" "$content" --method adain --alpha 0 --levels relu1_1 --decoders "$dir/decoders" \
      --size "$size" "${threads[@]}" -q -o "$work/recon1.png"
    psnr="$("$impasto" evaluate "$work/recon1.png" --reference "$content" --json | field psnr_db)"
    echo "relu1_1 reconstruction: ${psnr} dB (at least ${min_relu1})"
    awk -v p="$psnr" -v m="$min_relu1" 'BEGIN { exit !(p >= m) }' || { echo "FAIL: relu1_1 reconstruction" >&2; failed=1; }
  fi
fi

for f in "$dir"/*.impasto; do
  [[ -f "$f" ]] || continue
  styles="$("$impasto" models show "$f" | field styles)"
  mix=()
  if [[ -n "$styles" && "$styles" -gt 1 ]]; then
    mix=(--style-weights "$(printf '1%.0s,' $(seq "$styles") | sed 's/,$//')")
  fi
  "$impasto" stylize "$content" --model "$f" "${mix[@]}" --size "$size" "${threads[@]}" -q -o "$work/model.png"
  dims="$(check_size "$work/model.png")" || failed=1
  echo "stylize --model $(basename "$f"): $dims"
done

if [[ $failed -ne 0 ]]; then
  echo "check_models: FAILED" >&2
  exit 1
fi
echo "check_models: every model loads and stylises"
