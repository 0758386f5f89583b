#!/usr/bin/env bash
# Regenerates docs/gallery/ with our CLI: Tübingen (Andreas Praefcke, CC BY 3.0) with the paintings
# of Gatys et al. 2016, Fig. 2 that are public domain, at 512 px with the default preset.
# Only these downscaled outputs are committed, never the inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES=${IMAGES:-../shared/images}
OUT=${OUT:-docs/gallery}
B=${IMPASTO:-build/bin/impasto}
mkdir -p "$OUT"
for style in shipwreck_minotaur starry_night the_scream composition_vii; do
  "$B" stylize "$IMAGES/content/tubingen.jpg" "$IMAGES/style/$style.jpg" --size 512 --seed 0 -q \
      -o "$OUT/tubingen-$style.jpg" "$@"
  rm -f "$OUT/tubingen-$style.json"
done
"$B" stylize "$IMAGES/content/tubingen.jpg" "$IMAGES/style/starry_night.jpg" --size 512 -q --preserve-color luminance \
    -o "$OUT/tubingen-starry_night-luminance.jpg" "$@"
rm -f "$OUT"/*.json
ls -la "$OUT"
