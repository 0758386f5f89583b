#!/usr/bin/env bash
# Regenerates docs/study/ from the shipped studies (run by our CLI on ../shared/images): a screenshot
# of the gatys-fig3 report, and the layers study's reconstructions as one strip per row (Fig. 1).
# Needs chromium (tools/report_screenshot.sh) and python3-pil for cropping and JPEG encoding.
# Only these downscaled outputs are committed, never the inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${IMPASTO:-build/bin/impasto}
STUDIES=${STUDIES:-study-out}
OUT=${OUT:-docs/study}
mkdir -p "$OUT" "$STUDIES"
for name in gatys-fig3 layers; do
  "$B" study "studies/$name.toml" -o "$STUDIES/$name"
done
shot=$(mktemp --suffix=.png)
trap 'rm -f "$shot"' EXIT
tools/report_screenshot.sh "$STUDIES/gatys-fig3/report.html" "$shot" 1280 2400
/usr/bin/python3 - "$shot" "$STUDIES/layers/reconstructions" "$OUT" <<'PY'
import json, pathlib, sys
from PIL import Image, ImageDraw

shot, recon_dir, out = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
page = Image.open(shot).convert("RGB")
# The header and the matrix: everything above the loss curves, whose position depends on the page.
page = page.crop((0, 0, page.width, min(page.height, 2400)))
page.thumbnail((1000, 2000))
page.save(out / "report-gatys-fig3.jpg", quality=80, optimize=True)

rows = {"content": [], "style": []}
for sidecar in sorted(recon_dir.glob("*.json")):
    record = json.loads(sidecar.read_text())
    if record["kind"] in rows:
        rows[record["kind"]].append((record["layers"], sidecar.with_suffix(".png")))
tile_h, label_h = 150, 18
strips = []
for kind in ("content", "style"):
    items = sorted(rows[kind], key=lambda item: (len(item[0]), item[0]))
    tiles = []
    for layers, png in items:
        image = Image.open(png).convert("RGB")
        image = image.resize((round(image.width * tile_h / image.height), tile_h), Image.LANCZOS)
        label = layers[0] if kind == "content" else f"{layers[0]}..{layers[-1]}" if len(layers) > 1 else layers[0]
        tile = Image.new("RGB", (image.width, tile_h + label_h), "white")
        tile.paste(image, (0, 0))
        ImageDraw.Draw(tile).text((4, tile_h + 3), label, fill="black")
        tiles.append(tile)
    strip = Image.new("RGB", (sum(t.width for t in tiles) + 4 * (len(tiles) - 1), tile_h + label_h), "white")
    x = 0
    for tile in tiles:
        strip.paste(tile, (x, 0))
        x += tile.width + 4
    strips.append(strip)
figure = Image.new("RGB", (max(s.width for s in strips), sum(s.height for s in strips) + 6), "white")
figure.paste(strips[0], (0, 0))
figure.paste(strips[1], (0, strips[0].height + 6))
figure.save(out / "fig1-reconstructions.jpg", quality=85, optimize=True)
PY
ls -la "$OUT"
