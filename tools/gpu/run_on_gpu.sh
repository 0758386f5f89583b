#!/usr/bin/env bash
# Trains impasto's models on a lent CUDA machine in one call of the device tool (no impasto build there: PyTorch,
# numpy and an image decoder only). From the repository root, with tools/gpu/inputs carried (pack_inputs.py):
#
#   bash tools/gpu/run_on_gpu.sh [extra train_gpu.py options]
#
# TOTAL_SECONDS (default 560) bounds the whole command: a preflight (2 steps of every model at a tiny size,
# about 20 s, so that a broken path fails before the budget is spent), then the training, whose budget is what
# is left. What comes back under $OUT (at most 8 files, 16 MiB each):
#   impasto-gpu-models.tar   decoders/vgg19-relu*.impasto, <style>.impasto, previews/*.png, summary.json;
#                            refreshed after every model, so a run killed at its limit keeps what it finished
#   train.log                everything printed
#   summary.json             per model: steps, seconds, ms/step, TFLOP/s, final losses
# Exit status: 0 all written, 1 some model failed (the others are written), 2 the machine lacks something.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${OUT:-$repo/gpu-out}"
total="${TOTAL_SECONDS:-560}"
device="${DEVICE:-cuda}"
inputs="${INPUTS:-$here/inputs}"
work="${WORK:-/tmp/impasto-gpu}"
python="${PYTHON:-python3}"
mkdir -p "$out" "$work"
log="$out/train.log"
: > "$log"
say() { echo "$*" | tee -a "$log"; }
export PYTHONUNBUFFERED=1

say "== impasto GPU training: $(date -u +%FT%TZ), device $device, ${total} s in all"
command -v nvidia-smi >/dev/null && nvidia-smi -L 2>&1 | tee -a "$log"
# What the trainer needs, each named when missing.
"$python" - "$device" <<'EOF' 2>&1 | tee -a "$log"
import sys
missing = []
try:
    import torch
    print(f"python {sys.version.split()[0]}, torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}"
          + (f", {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""))
    if sys.argv[1].startswith("cuda") and not torch.cuda.is_available():
        missing.append("CUDA (torch.cuda.is_available() is False)")
except Exception as e:
    missing.append(f"torch ({e})")
try:
    import numpy
    print(f"numpy {numpy.__version__}")
except Exception as e:
    missing.append(f"numpy ({e}): carry a wheel (see the device README)")
decoders = []
for name in ("PIL", "torchvision", "cv2"):
    try:
        __import__(name)
        decoders.append(name)
    except Exception:
        pass
print("image decoders: " + (", ".join(decoders) or "none"))
if "PIL" not in decoders:
    print("note: Pillow is missing; images are decoded with " + (decoders[0] if decoders else "nothing"))
if not decoders:
    missing.append("an image decoder (Pillow, torchvision or opencv-python)")
if missing:
    print("MISSING: " + "; ".join(missing))
    sys.exit(2)
EOF
[[ ${PIPESTATUS[0]} -eq 0 ]] || { say "stopped: the machine lacks what the trainer needs (above)"; exit 2; }
for f in vgg19.npz photos.npz styles.npz; do
  [[ -f "$inputs/$f" ]] || { say "MISSING: $inputs/$f: run tools/gpu/pack_inputs.py here and carry tools/gpu/inputs"; exit 2; }
done
ls -l "$inputs" | tee -a "$log"

say "== preflight (2 steps of every model at crop 64)"
timeout 180 "$python" "$here/train_gpu.py" --inputs "$inputs" --device "$device" --preflight --out "$work/preflight" \
  "$@" 2>&1 | tee -a "$log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || { say "stopped: the preflight failed (above); nothing was trained"; exit 1; }

budget=$((total - SECONDS - 15))
say "== training, ${budget} s budget"
rm -rf "$work/models"
"$python" "$here/train_gpu.py" --inputs "$inputs" --device "$device" --budget "$budget" --out "$work/models" \
  --tar "$out/impasto-gpu-models.tar" "$@" 2>&1 | tee -a "$log"
status=${PIPESTATUS[0]}
[[ -f "$work/models/summary.json" ]] && cp "$work/models/summary.json" "$out/summary.json"
[[ -f "$out/impasto-gpu-models.tar" ]] && say "archive: $(tar -tf "$out/impasto-gpu-models.tar" | tr '\n' ' ')"
say "== finished in ${SECONDS} s, exit ${status}"
exit "$status"
