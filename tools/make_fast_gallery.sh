#!/usr/bin/env bash
# The fast-styles gallery in the README, made by our CLI from ../shared/images. Outputs are written at
# 1024 px and committed downscaled to 512 px JPEGs; the inputs are never copied.
#
#   tools/make_fast_gallery.sh [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
impasto="$build/bin/impasto"
shared="${IMPASTO_SHARED_DIR:-$here/../shared}/images"
work="${WORK:-/tmp/impasto-fast-gallery}"
gallery="$here/docs/gallery/fast"
python="${PYTHON:-/usr/bin/python3}"
mkdir -p "$work" "$gallery"
content="$shared/content/tubingen.jpg"

shrink() { # full-size output -> committed 512 px JPEG
  "$python" -c "from PIL import Image; import sys; i = Image.open(sys.argv[1]).convert('RGB'); i.thumbnail((512, 512), Image.LANCZOS); i.save(sys.argv[2], quality=88)" "$1" "$2"
}

for model in starry_night the_scream great_wave composition_vii; do
  "$impasto" stylize "$content" --model "$model" --size 1024 -o "$work/model-$model.png" -q
  shrink "$work/model-$model.png" "$gallery/tubingen-model-$model.jpg"
done
for painting in woman_with_hat udnie water_lilies; do
  for method in adain wct; do
    "$impasto" stylize "$content" "$shared/style/$painting.jpg" --method "$method" --size 1024 \
      -o "$work/$method-$painting.png" -q
    shrink "$work/$method-$painting.png" "$gallery/tubingen-$method-$painting.jpg"
  done
done
# Two styles, one per half of the picture (the masks are committed beside the gallery).
"$impasto" stylize "$content" "$shared/style/udnie.jpg" "$shared/style/great_wave.jpg" --method wct --size 1024 \
  --mask "$gallery/mask-left.png" --mask "$gallery/mask-right.png" -o "$work/masked.png" -q
shrink "$work/masked.png" "$gallery/tubingen-wct-masked.jpg"
# Interpolation in a two-style network made by adding a style (norm rows only).
if [[ -f "$here/models/starry_scream.impasto" ]]; then
  for weights in 1,0 0.5,0.5 0,1; do
    "$impasto" stylize "$content" --model starry_scream --style-weights "$weights" --size 1024 \
      -o "$work/mix-$weights.png" -q
    shrink "$work/mix-$weights.png" "$gallery/tubingen-mix-${weights/,/-}.jpg"
  done
fi
ls -la "$gallery"
