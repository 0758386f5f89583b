#!/usr/bin/env bash
# ctest gpu_trainer_smoke: the GPU trainer (tools/gpu/train_gpu.py) run on the CPU for 3 steps per model at
# 32 px crops, its files checked by impasto itself (check_models.sh), and parity: the Python networks against the
# C++ ones, on the files just written and on the committed models/ (parity.py, > 40 dB).
# Exit 77 (ctest: skipped) when there is no python3 with torch and numpy, no image decoder, no installed VGG19
# weights, or no ../shared images: nothing in impasto depends on this trainer.
#
#   tools/gpu/smoke_test.sh [IMPASTO]        # PYTHON=... picks the interpreter
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
impasto="${1:-$repo/build/bin/impasto}"
shared="${IMPASTO_SHARED_DIR:-$repo/../shared}"
skip() { echo "SKIPPED: $*"; exit 77; }

python=""
for candidate in "${PYTHON:-}" python3 /usr/bin/python3; do
  if [[ -n "$candidate" ]] && command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import torch, numpy' >/dev/null 2>&1; then
    python="$candidate"
    break
  fi
done
[[ -n "$python" ]] || skip "no python3 with torch and numpy (Debian: apt-get install python3-torch python3-numpy" \
                           "python3-pil); the GPU trainer is optional"
"$python" -c "import sys; sys.path.insert(0, '$here'); import impasto_files as f; sys.exit(not f.image_decoder_name())" ||
  skip "no image decoder for Python (Pillow, torchvision or OpenCV)"
data_home="${XDG_DATA_HOME:-$HOME/.local/share}"
weights="$data_home/impasto/weights/vgg19.caffe.safetensors"
[[ -f "$weights" ]] || skip "no VGG19 weights at $weights (impasto weights install)"
[[ -d "$shared/datasets/bsds500" && -d "$shared/images/style" && -d "$shared/images/content" ]] ||
  skip "no training photos or images under $shared"
[[ -x "$impasto" ]] || { echo "no impasto binary at $impasto" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1
echo "python: $python ($("$python" -c 'import torch; print("torch", torch.__version__)'))"

"$python" "$here/pack_inputs.py" --weights "$weights" --photos "$shared/datasets/bsds500" --limit 8 \
  --styles "$shared/images/style/starry_night.jpg" "$shared/images/style/the_scream.jpg" --out "$work/inputs"
"$python" "$here/train_gpu.py" --inputs "$work/inputs" --out "$work/out" --tar "$work/models.tar" --device cpu \
  --threads 1 --steps 3 --decoder-batch 2 --decoder-crop 32 --style-batch 2 --style-crop 32 --style-size 64 \
  --solve-batches 2 --preview-size 64 --budget 400 \
  --models relu1_1 relu2_1 relu3_1 relu4_1 starry_night starry_scream
mkdir -p "$work/unpacked"
tar -xf "$work/models.tar" -C "$work/unpacked"
for f in decoders/vgg19-relu1_1.impasto decoders/vgg19-relu4_1.impasto starry_night.impasto starry_scream.impasto \
         summary.json; do
  [[ -f "$work/unpacked/$f" ]] || { echo "FAIL: $f is not in the archive" >&2; exit 1; }
done
THREADS=1 SIZE=128 IMPASTO_SHARED_DIR="$shared" "$here/check_models.sh" "$impasto" "$work/unpacked"
"$python" "$here/parity.py" --impasto "$impasto" --models "$work/unpacked" --vgg "$work/inputs/vgg19.npz" \
  --image "$shared/images/content/kodim01.png" --size 128 --work "$work/parity-new"
"$python" "$here/parity.py" --impasto "$impasto" --models "$repo/models" --vgg "$work/inputs/vgg19.npz" \
  --image "$shared/images/content/kodim01.png" --size 128 --work "$work/parity-committed"
echo "gpu trainer smoke test: PASSED"
