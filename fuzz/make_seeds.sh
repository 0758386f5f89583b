#!/usr/bin/env bash
# Remakes the committed seed corpora (fuzz/corpus/<target>/seed-*) and the generated dictionaries
# (fuzz/dict/job_request.dict, study_spec.dict) with fuzz/make_seeds.cpp, built in build-fuzz.
# Corpus files that the fuzzers added (named by their SHA-1) are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build-fuzz/build.ninja ] || cmake --preset fuzz >/dev/null
cmake --build build-fuzz --target impasto_fuzz_seeds
build-fuzz/bin/impasto_fuzz_seeds fuzz
du -b fuzz/corpus/*/seed-* fuzz/dict/*.dict
