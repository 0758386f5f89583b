#!/usr/bin/env bash
# Trains the committed models with impasto's own command, one after another, each resumable:
# run it again after an interruption and every model continues from its checkpoint.
#
#   tools/train_models.sh [BUILD_DIR]
#
# Photos: ../shared/datasets/bsds500 (BSDS500, research use only) only, so that the 13 photos of
# ../shared/images/content stay unseen for evaluation.
# Paintings: ../shared/images/style. Checkpoints and previews go to $WORK (default /tmp/impasto-train).
# Step counts are what a 2-core CPU managed in the time given; on a GPU raise them (STYLE_STEPS=40000).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
impasto="$build/bin/impasto"
shared="${IMPASTO_SHARED_DIR:-$here/../shared}"
work="${WORK:-/tmp/impasto-train}"
threads="${THREADS:-2}"
styles="${STYLES:-starry_night the_scream great_wave composition_vii}"
decoder_levels="${DECODER_LEVELS:-relu1_1 relu2_1 relu3_1 relu4_1}"
data=(--data "$shared/datasets/bsds500")
mkdir -p "$work/previews" "$here/models/decoders"

decoder_steps() {
  case "$1" in
    relu1_1) echo "${DECODER1_STEPS:-1}" ;;
    relu2_1) echo "${DECODER2_STEPS:-2000}" ;;
    relu3_1) echo "${DECODER3_STEPS:-1200}" ;;
    *) echo "${DECODER4_STEPS:-4000}" ;;
  esac
}

style_steps() { echo "${STYLE_STEPS:-2000}"; }

resume_flag() { [[ -f "$1" ]] && echo --resume || true; }

# Per-style networks: 128 px crops (0.25 s/step on 2 cores, a quarter of a 256 px step) with the style's Grams at
# 256 px, so that the strokes keep the scale they have at 256 px crops; 2000 steps (8-9 min each).
train_style() {
  local style="$1" ckpt="$work/$1.ckpt"
  "$impasto" train style --style "$shared/images/style/$style.jpg" "${data[@]}" -o "$here/models/$style.impasto" \
    --width 0.5 --steps "$(style_steps "$style")" --batch 4 --crop 128 --style-size 256 --checkpoint "$ckpt" \
    --checkpoint-every 100 --preview-every 100 --preview-content "$shared/images/content/tubingen.jpg" \
    --preview-dir "$work/previews" --threads "$threads" $(resume_flag "$ckpt")
}

# relu1_1 and relu2_1 (retrained): BSDS500 only, so no evaluation image is in the training data; colour jitter
# (the default); 128 px crops, batch 8, pixel weight 10. relu1_1 is one convolution: its least-squares start over
# 16 batches is the model (one step at a negligible rate). relu2_1 starts its last layers from relu1_1 (--tail),
# relu3_1 from relu2_1, relu4_1 from relu3_1 (the committed relu3_1, after its second stretch). relu3_1 then has
# a second stretch (--init, to 2400 steps in all, lr 5e-4): the committed model is where each stretch resumes.
train_decoder() {
  local level="$1" ckpt="$work/decoder-$1.ckpt" out="$here/models/decoders/vgg19-$1.impasto"
  local recipe=()
  case "$level" in
    relu1_1) recipe=(--data "$shared/datasets/bsds500" --batch 8 --crop 128 --pixel-weight 10 --lr 1e-9) ;;
    relu2_1 | relu3_1 | relu4_1)
      local shallower=relu1_1
      [[ $level == relu3_1 ]] && shallower=relu2_1
      [[ $level == relu4_1 ]] && shallower=relu3_1
      recipe=(--data "$shared/datasets/bsds500" --batch 8 --crop 128 --pixel-weight 10 --lr 1e-3
              --tail "$here/models/decoders/vgg19-$shallower.impasto") ;;
    *) recipe=(--data "$shared/datasets/bsds500" --batch 8 --crop 128 --pixel-weight 10 --lr 1e-3) ;;
  esac
  "$impasto" train decoder --level "$level" "${recipe[@]}" -o "$out" --steps "$(decoder_steps "$level")" \
    --checkpoint "$ckpt" --checkpoint-every 50 --threads "$threads" $(resume_flag "$ckpt")
  if [[ $level == relu3_1 ]]; then
    "$impasto" train decoder --level relu3_1 --data "$shared/datasets/bsds500" --batch 8 --crop 128 \
      --pixel-weight 10 --lr 5e-4 --init "$out" -o "$out" --steps "${DECODER3_TOTAL_STEPS:-2400}" \
      --checkpoint "$work/decoder-relu3_1-stretch2.ckpt" --checkpoint-every 50 --threads "$threads" \
      $(resume_flag "$work/decoder-relu3_1-stretch2.ckpt")
  fi
  if [[ $level == relu4_1 ]]; then
    # AdaIN's own objective added (Huang & Belongie 2017) on 5 paintings; Udnie, Water Lilies and Woman with a Hat
    # stay out for evaluation. The committed file had 249 more reconstruction steps (a stretch cut short) before it.
    local paintings="$work/adain-paintings/style"
    mkdir -p "$paintings"
    for name in composition_vii great_wave shipwreck_minotaur starry_night the_scream; do
      ln -sf "$shared/images/style/$name.jpg" "$paintings/"
    done
    "$impasto" train decoder --level relu4_1 --data "$shared/datasets/bsds500" --style-data "$work/adain-paintings" \
      --batch 8 --crop 128 --pixel-weight 10 --lr 2e-4 --adain-weight 0.5 --adain-style-weight 10 --init "$out" \
      -o "$out" --steps "${DECODER4_TOTAL_STEPS:-5100}" --checkpoint "$work/decoder-relu4_1-adain.ckpt" \
      --checkpoint-every 50 --threads "$threads" $(resume_flag "$work/decoder-relu4_1-adain.ckpt")
  fi
}

for level in $decoder_levels; do
  train_decoder "$level"
done
for style in $styles; do
  train_style "$style"
done
# A style added to a trained network: only the new style's norm rows train (a higher rate suits them).
if [[ " $styles " == *" starry_night "* ]]; then
  "$impasto" train style --base "$here/models/starry_night.impasto" --style "$shared/images/style/the_scream.jpg" \
    "${data[@]}" -o "$here/models/starry_scream.impasto" --steps "${ADD_STEPS:-600}" --lr 0.01 --batch 4 --crop 128 \
    --style-size 256 --checkpoint "$work/starry_scream.ckpt" --checkpoint-every 100 --threads "$threads" \
    $(resume_flag "$work/starry_scream.ckpt")
fi
