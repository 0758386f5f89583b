#!/usr/bin/env bash
# How well the arbitrary-style path generalises to paintings it never saw: the decoders were trained
# on photos only (BSDS500 + the content photos), so every painting is unseen.
#
#   tools/measure_generalisation.sh [BUILD_DIR] [OUT_DIR]
#
# 1. Reconstruction: decode(encode(x)) at relu4_1 (--method adain --alpha 0 with x as its own style),
#    PSNR against x at 512 px, for every painting (unseen) and for the photos (seen in training).
# 2. Stylisation: Tuebingen in every painting's style with AdaIN and WCT, scored by `impasto evaluate`
#    (the Gatys losses, fp32, 384 px), next to the optimisation's own result where the gallery has it.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
out="${2:-/tmp/impasto-generalisation}"
impasto="$build/bin/impasto"
shared="${IMPASTO_SHARED_DIR:-$here/../shared}"
python="${PYTHON:-/usr/bin/python3}"
mkdir -p "$out"

psnr() {
  "$python" - "$1" "$2" <<'PY'
import sys
import numpy as np
from PIL import Image
a = Image.open(sys.argv[1]).convert("RGB")
b = Image.open(sys.argv[2]).convert("RGB").resize(a.size, Image.LANCZOS)
mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
print(f"{10 * np.log10(255.0 ** 2 / mse):.2f}")
PY
}

echo "## Reconstruction through the relu4_1 decoder (PSNR in dB at 512 px; higher is better)"
echo "| image | kind | PSNR |"
echo "|---|---|---|"
for image in "$shared"/images/style/*.jpg "$shared"/images/content/*.png "$shared"/images/content/*.jpg; do
  name="$(basename "${image%.*}")"
  kind=painting
  [[ "$image" == */content/* ]] && kind="photo (seen)"
  "$impasto" stylize "$image" "$image" --method adain --alpha 0 --size 512 -o "$out/recon-$name.png" -q
  "$python" -c "from PIL import Image; import sys; i=Image.open(sys.argv[1]).convert('RGB'); s=512/max(i.size); i.resize((round(i.width*s), round(i.height*s)), Image.LANCZOS).save(sys.argv[2])" "$image" "$out/orig-$name.png"
  echo "| $name | $kind | $(psnr "$out/orig-$name.png" "$out/recon-$name.png") |"
done

echo
echo "## Tuebingen in each painting's style (Gatys losses at 384 px, fp32; lower is better)"
echo "| painting | method | content loss | style loss |"
echo "|---|---|---|---|"
content="$shared/images/content/tubingen.jpg"
for painting in "$shared"/images/style/*.jpg; do
  name="$(basename "${painting%.*}")"
  outputs=()
  for method in adain wct; do
    "$impasto" stylize "$content" "$painting" --method "$method" --size 512 -o "$out/$name-$method.png" -q
    outputs+=("$out/$name-$method.png")
  done
  gatys="$here/docs/gallery/tubingen-$name.jpg"
  [[ -f "$gatys" ]] && outputs+=("$gatys")
  "$impasto" evaluate --content "$content" --style "$painting" --size 384 --json "${outputs[@]}" |
    "$python" -c "
import json, sys
for row in json.load(sys.stdin):
    path = row['output']
    method = 'gatys (default preset, gallery)' if '/docs/gallery/' in path else path.rsplit('-', 1)[-1].split('.')[0]
    print(f\"| $name | {method} | {row['content_loss']:.4g} | {row['style_loss']:.4g} |\")
"
done
