#!/usr/bin/env bash
# Reconstruction through each decoder: decode(encode(x)) with `--method adain --alpha 0` and x as its
# own style, PSNR against x at 512 px (`impasto evaluate --reference`), over the 8 paintings and the
# 13 content photos of ../shared/images. None of them is in the decoders' training data
# (BSDS500 only), so every figure is on unseen images.
#
#   tools/measure_reconstruction.sh [BUILD_DIR] [DECODERS_DIR] [OUT_DIR]
#   LEVELS="relu1_1 relu4_1" tools/measure_reconstruction.sh      # some levels only
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
decoders="${2:-$here/models/decoders}"
out="${3:-/tmp/impasto-reconstruction}"
shared="${IMPASTO_SHARED_DIR:-$here/../shared}"
impasto="$build/bin/impasto"
read -r -a levels <<< "${LEVELS:-relu1_1 relu2_1 relu3_1 relu4_1}"
mkdir -p "$out"
[[ -d "$shared/images" ]] || { echo "skipped: $shared/images is absent" >&2; exit 0; }

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
echo "decoders: $decoders"
printf '| level | paintings (8) | photos (13) | all (21) | worst |\n|---|---|---|---|---|\n'
for level in "${levels[@]}"; do
  [[ -f "$decoders/vgg19-$level.impasto" ]] || { echo "| $level | no decoder | | | |"; continue; }
  paintings=() photos=()
  for image in "$shared"/images/style/*.jpg "$shared"/images/content/*.png "$shared"/images/content/*.jpg; do
    name="$(basename "${image%.*}")"
    result="$out/$level-$name.png"
    "$impasto" stylize "$image" "$image" --method adain --alpha 0 --levels "$level" --size 512 \
      --decoders "$decoders" -o "$result" -q
    psnr=$("$impasto" evaluate "$result" --reference "$image" --json |
           sed -n 's/.*"psnr_db": *\([0-9.]*\).*/\1/p')
    if [[ "$image" == */style/* ]]; then paintings+=("$psnr"); else photos+=("$psnr"); fi
    echo "$level $name $psnr" >> "$out/psnr.txt"
  done
  mean() { printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.2f", s / NR }'; }
  worst=$(printf "%s\n" "${paintings[@]}" "${photos[@]}" | sort -n | head -1 | xargs printf "%.2f")
  printf '| %s | %s | %s | %s | %s |\n' "$level" "$(mean "${paintings[@]}")" "$(mean "${photos[@]}")" \
    "$(mean "${paintings[@]}" "${photos[@]}")" "$worst"
done
