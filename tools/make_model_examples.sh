#!/usr/bin/env bash
# The studio's model examples: the Tübingen photo (Andreas Praefcke, CC BY 3.0) stylised by every
# model in models/ (each style of a multi-style or StyleBank model, picked with --style-weights),
# by AdaIN and WCT with the committed decoders, and by the default optimisation, all made by our
# own CLI. Only small downscaled outputs and their index are committed, never the inputs; the
# studio shows them in its method tabs (GET /api/defaults names them, GET /api/examples/FILE
# serves them). Rerun after training a model:
#
#   tools/make_model_examples.sh [BUILD_DIR]
#
# Environment (defaults in brackets):
#   IMPASTO_SHARED_DIR  the folder holding images/ [../shared]; absent: nothing is made, exit 0
#   MODELS              the models folder to read [models]
#   OUT                 where the examples go [MODELS/examples]; its *.jpg and index.json are replaced
#   SIZE                long side the CLI renders at [256]
#   THUMB               long side of the committed JPEG [160]
#   QUALITY             its JPEG quality [80]
#   PAINTINGS           paintings for adain, wct and the optimisation [udnie woman_with_hat]
#   OPTIMISATION        1: also the default optimisation of the first painting (a minute or two) [1]
#   THREADS             CPU threads per run [1]; everything runs under nice
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
impasto="$build/bin/impasto"
shared="${IMPASTO_SHARED_DIR:-$here/../shared}/images"
models="${MODELS:-$here/models}"
out="${OUT:-$models/examples}"
size="${SIZE:-256}"
thumb="${THUMB:-160}"
quality="${QUALITY:-80}"
read -r -a paintings <<<"${PAINTINGS:-udnie woman_with_hat}"
optimisation="${OPTIMISATION:-1}"
threads="${THREADS:-1}"
python="${PYTHON:-/usr/bin/python3}"
content="$shared/content/tubingen.jpg"

if [[ ! -f "$content" ]]; then
  echo "make_model_examples: skipped: no $content (the shared images are not beside the repository)"
  exit 0
fi
if [[ ! -x "$impasto" ]]; then
  echo "make_model_examples: no $impasto; build first (cmake --build build)" >&2
  exit 1
fi
if ! "$python" -c "import PIL" 2>/dev/null; then
  echo "make_model_examples: $python has no Pillow (apt install python3-pil)" >&2
  exit 1
fi

export OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"
work="$(mktemp -d "${TMPDIR:-/tmp}/impasto-examples.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/out"
entries="$work/entries.tsv" # method, model, transform, style, file: one example a line
: >"$entries"

# The server takes file names of [A-Za-z0-9_-] only (and .jpg): anything else is not made.
safe() { [[ "$1" =~ ^[A-Za-z0-9][A-Za-z0-9_-]*$ ]]; }

# render NAME METHOD MODEL TRANSFORM STYLE STYLIZE_ARGS...: our CLI at $size, shrunk to $thumb, recorded.
render() {
  local name="$1" method="$2" model="$3" transform="$4" style="$5"
  shift 5
  local png="$work/$name.png"
  if nice -n 10 "$impasto" stylize "$content" "$@" --size "$size" --threads "$threads" -q -o "$png" \
    >"$work/$name.log" 2>&1; then
    "$python" - "$png" "$work/out/$name.jpg" "$thumb" "$quality" <<'EOF'
import sys
from PIL import Image
image = Image.open(sys.argv[1]).convert("RGB")
image.thumbnail((int(sys.argv[3]), int(sys.argv[3])), Image.LANCZOS)
image.save(sys.argv[2], quality=int(sys.argv[4]), optimize=True, progressive=False)
EOF
    printf '%s\t%s\t%s\t%s\t%s\n' "$method" "$model" "$transform" "$style" "$name.jpg" >>"$entries"
    echo "  $name.jpg ($(stat -c %s "$work/out/$name.jpg") bytes)"
  else
    echo "  $name: failed, left out: $(tail -n 1 "$work/$name.log")" >&2
  fi
}

echo "make_model_examples: $content at $size px -> $out ($thumb px JPEGs)"

# Feed-forward models: the names `models list` gives (the first column), their kind and styles
# from `models show` as JSON, so that a change to the list's columns breaks nothing here.
mapfile -t names < <("$impasto" models list --dir "$models" | awk 'NR > 1 && NF > 1 { print $1 }')
for name in "${names[@]}"; do
  file="$models/$name.impasto"
  if [[ ! -f "$file" ]]; then # a list that names models by their stem only
    file="$(find "$models" -type f -name "$(basename "$name").impasto" | sort | head -n 1)"
  fi
  if [[ -z "$file" ]]; then
    echo "  $name: listed, but no $name.impasto under $models; left out" >&2
    continue
  fi
  stem="$(basename "$name")"
  info="$("$impasto" models show "$file" | "$python" -c '
import json, sys
model = json.load(sys.stdin)
styles = model.get("config", {}).get("style_names") or [s["name"] for s in model.get("card", {}).get("style_images", [])]
print(model.get("kind", ""), *styles)')"
  read -r -a fields <<<"$info"
  kind="${fields[0]:-}"
  styles=("${fields[@]:1}")
  if [[ "$kind" != transformer && "$kind" != stylebank ]]; then
    continue # decoders are the arbitrary method's, below
  fi
  if ! safe "$stem"; then
    echo "  $name: a name the studio cannot serve an example for; left out" >&2
    continue
  fi
  count="${#styles[@]}"
  for ((i = 0; i < count; i++)); do
    style="${styles[$i]}"
    safe "$style" || continue
    weights=()
    if ((count > 1)); then
      one_hot=()
      for ((j = 0; j < count; j++)); do one_hot+=("$((i == j ? 1 : 0))"); done
      weights=(--style-weights "$(IFS=,; echo "${one_hot[*]}")")
    fi
    render "fast-$stem-$style" fast "$stem" "" "$style" --model "$file" "${weights[@]}"
  done
done

# Arbitrary style with the committed decoders, and the optimisation, on the same paintings.
if compgen -G "$models/decoders/*.impasto" >/dev/null; then
  for painting in "${paintings[@]}"; do
    [[ -f "$shared/style/$painting.jpg" ]] && safe "$painting" || continue
    for transform in adain wct; do
      render "$transform-$painting" arbitrary "" "$transform" "$painting" "$shared/style/$painting.jpg" \
        --method "$transform" --decoders "$models/decoders"
    done
  done
fi
if [[ "$optimisation" == 1 && -f "$shared/style/${paintings[0]}.jpg" ]]; then
  render "optimisation-${paintings[0]}" optimisation "" "" "${paintings[0]}" "$shared/style/${paintings[0]}.jpg"
fi

# The index the server reads: method, model, transform and style -> file. Written last, so that a
# failed run leaves the committed examples as they were.
"$python" - "$entries" "$work/out/index.json" "$size" "$thumb" "$("$impasto" --version 2>/dev/null | head -n 1)" <<'EOF'
import json, sys
entries = []
for line in open(sys.argv[1], encoding="utf-8"):
    method, model, transform, style, file = line.rstrip("\n").split("\t")
    entry = {"method": method}
    if model:
        entry["model"] = model
    if transform:
        entry["transform"] = transform
    entry["style"] = style
    entry["file"] = file
    entries.append(entry)
index = {
    "content": "tubingen.jpg (Neckarfront, Tübingen; photo by Andreas Praefcke, CC BY 3.0)",
    "size": int(sys.argv[3]),
    "thumb": int(sys.argv[4]),
    "made_by": "tools/make_model_examples.sh, " + sys.argv[5],
    "examples": entries,
}
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(index, f, indent=1, ensure_ascii=False)
    f.write("\n")
EOF
mkdir -p "$out"
rm -f "$out"/*.jpg "$out/index.json"
cp "$work/out/"*.jpg "$out/" 2>/dev/null || true
cp "$work/out/index.json" "$out/index.json"
echo "make_model_examples: $(grep -c . "$entries") examples, $(du -ch "$out"/*.jpg 2>/dev/null | tail -n 1 | cut -f1) in $out"
