#!/usr/bin/env bash
# Measurements behind docs/stylebank.md: StyleBank against the optimisation's default preset, and
# adding a style at equal minutes (StyleBank bank vs a whole per-style network vs conditional
# instance norm), scored by `impasto evaluate` (Gatys losses, fp32 VGG19, 512 px) on 3 photos that
# no model trained on. Every step skips what it has already written, so the script resumes.
#
#   docs/stylebank_measure.sh reference STYLE...      optimisation, default preset, 512 px
#   docs/stylebank_measure.sh model MODEL STYLE...    a stylebank model, one bank at a time
#   docs/stylebank_measure.sh transformer STYLE...    the committed per-style networks (models/STYLE)
#   docs/stylebank_measure.sh add SECONDS STYLE       the three ways to add STYLE, SECONDS of training
#                                                     each, snapshots at 1/4, 1/2 and all of it
#   docs/stylebank_measure.sh table                   the evaluations as JSON lines (scores.jsonl)
#
# Environment: OUT (default /tmp/impasto-stylebank), BASE (the stylebank model to add to),
# CIN_BASE (the transformer model to add to, default models/starry_night.impasto), THREADS (2), PHOTOS.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
impasto="${IMPASTO:-$here/build/bin/impasto}"
shared="${IMPASTO_SHARED_DIR:-$here/../shared}"
out="${OUT:-/tmp/impasto-stylebank}"
threads="${THREADS:-2}"
# Held out: no model here trained on ../shared/images/content. PHOTOS="tubingen.jpg" limits the runs.
read -r -a photos <<<"${PHOTOS:-tubingen.jpg kodim01.png kodim07.png}"
data=(--data "$shared/datasets/bsds500")
mkdir -p "$out/img" "$out/add"

photo_path() { echo "$shared/images/content/$1"; }
style_path() { echo "$shared/images/style/$1.jpg"; }
stem() { local name="${1##*/}"; echo "${name%.*}"; }

# score OUTPUT PHOTO STYLE LABEL: one JSON line per output in scores.jsonl (once).
score() {
  local output="$1" photo="$2" style="$3" label="$4"
  grep -qF "\"output\": \"$output\"" "$out/scores.jsonl" 2>/dev/null && return 0
  "$impasto" evaluate "$output" --content "$(photo_path "$photo")" --style "$(style_path "$style")" --size 512 \
    --threads "$threads" --json |
    python3 -c 'import json,sys; r=json.load(sys.stdin)[0]; r.update(label=sys.argv[1], style=sys.argv[2], photo=sys.argv[3], output=sys.argv[4]); print(json.dumps(r))' \
      "$label" "$style" "$photo" "$output" >>"$out/scores.jsonl"
}

reference() {
  for style in "$@"; do
    for photo in "${photos[@]}"; do
      local o="$out/img/opt-$style-$(stem "$photo").png"
      [[ -f "$o" ]] || "$impasto" stylize "$(photo_path "$photo")" "$(style_path "$style")" --size 512 -o "$o" \
        --threads "$threads" -q
      score "$o" "$photo" "$style" "optimisation (default preset)"
    done
  done
}

# one_hot INDEX COUNT -> "0,1,0"
one_hot() { local i w=(); for ((i = 0; i < $2; i++)); do w+=($([[ $i == "$1" ]] && echo 1 || echo 0)); done; (IFS=,; echo "${w[*]}"); }

model() {
  local model="$1"; shift
  local names count i
  names="$("$impasto" models show "$model" | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["config"]["style_names"]))')"
  count="$(wc -w <<<"$names")"
  i=0
  for style in $names; do
    if [[ " $* " == *" $style "* ]]; then
      for photo in "${photos[@]}"; do
        local o="$out/img/$(stem "$model")-$style-$(stem "$photo").png"
        [[ -f "$o" ]] || "$impasto" stylize "$(photo_path "$photo")" --model "$model" --style-weights "$(one_hot $i "$count")" \
          --size 512 -o "$o" --threads "$threads" -q
        score "$o" "$photo" "$style" "$(stem "$model")"
      done
    fi
    i=$((i + 1))
  done
}

transformer() {
  for style in "$@"; do
    model "$here/models/$style.impasto" "$style"
  done
}

# train_for SECONDS LABEL ARGS...: trains (or resumes) until SECONDS of wall time in all, by SIGINT.
train_for() {
  local seconds="$1" label="$2"; shift 2
  local model="$out/add/$label.impasto" done_s=0
  if [[ -f "$model" ]]; then
    done_s="$("$impasto" models show "$model" | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["card"]["wall_seconds"]))')"
  fi
  local left=$((seconds - done_s)) resume=()
  [[ -f "$model.ckpt" ]] && resume=(--resume)
  if ((left > 5)); then
    timeout -s INT "$left" nice -n 10 "$impasto" "$@" -o "$model" --steps 100000 --lr-schedule constant \
      --checkpoint-every 10 --threads "$threads" -q "${resume[@]}" || [[ $? == 130 || $? == 124 ]]
  fi
}

add() {
  local seconds="$1" style="$2" base="${BASE:?BASE must name the stylebank model to add to}"
  local cin_base="${CIN_BASE:-$here/models/starry_night.impasto}" part
  local common=(--style "$(style_path "$style")" "${data[@]}" --batch 4 --crop 128 --style-size 256)
  for part in 1 2 4; do
    local budget=$((seconds * part / 4))
    train_for "$budget" "stylebank-$style" train stylebank --base "$base" "${common[@]}" --lr 5e-3
    train_for "$budget" "cin-$style" train style --base "$cin_base" "${common[@]}" --lr 1e-2
    train_for "$budget" "pernet-$style" train style --width 0.5 "${common[@]}" --lr 2e-3
    for method in stylebank cin pernet; do
      local snap="$out/add/$method-$style-q$part.impasto"
      cp -n "$out/add/$method-$style.impasto" "$snap"
      local count index
      count="$("$impasto" models show "$snap" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["config"]["style_names"]))')"
      index=$((count - 1))
      for photo in "${photos[@]}"; do
        local o="$out/img/add-$method-$style-q$part-$(stem "$photo").png"
        [[ -f "$o" ]] || "$impasto" stylize "$(photo_path "$photo")" --model "$snap" \
          --style-weights "$(one_hot $index "$count")" --size 512 -o "$o" --threads "$threads" -q
        score "$o" "$photo" "$style" "add $method q$part"
      done
    done
  done
}

case "${1:-}" in
reference) shift; reference "$@" ;;
model) shift; model "$@" ;;
transformer) shift; transformer "$@" ;;
add) shift; add "$@" ;;
table) cat "$out/scores.jsonl" ;;
*) sed -n '2,17p' "$0"; exit 2 ;;
esac
