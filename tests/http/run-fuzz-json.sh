#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/http/run-fuzz-json.sh DIR SECONDS — builds the JSON request
# decoding fuzz target with clang, libFuzzer, ASan and UBSan in build
# directory DIR and runs it for SECONDS seconds over a copy of the seed
# corpus (tests/http/fuzz-corpus). A crash leaves its input in
# DIR/fuzz-json-artifacts and makes the script fail.
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
DIR=$1
SECONDS_TO_RUN=$2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLANG=${CLANG:-clang}

setup_args=(
  -Dfuzz=true
  -Dbenchmarks=false
  -Dmedia=disabled
  -Dbuildtype=debugoptimized
  -Db_sanitize=address,undefined
  -Db_lundef=false
  "-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined"
)
if [[ -f $DIR/meson-private/coredata.dat ]]; then
  CC=$CLANG meson setup --reconfigure "$DIR" "$ROOT" "${setup_args[@]}" >/dev/null ||
    CC=$CLANG meson setup --wipe "$DIR" "$ROOT" "${setup_args[@]}" >/dev/null
else
  CC=$CLANG meson setup "$DIR" "$ROOT" "${setup_args[@]}" >/dev/null
fi
ninja -C "$DIR" tests/http/fuzz-json >/dev/null

corpus=$DIR/fuzz-json-corpus
artifacts=$DIR/fuzz-json-artifacts
mkdir -p "$corpus" "$artifacts"
cp -n "$ROOT"/tests/http/fuzz-corpus/*.json "$corpus"/

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/lsan.supp}
export G_DEBUG=fatal-criticals

echo "run-fuzz-json: fuzz-json for ${SECONDS_TO_RUN}s, corpus $corpus" >&2
"$DIR"/tests/http/fuzz-json \
  -max_total_time="$SECONDS_TO_RUN" \
  -timeout=20 \
  -rss_limit_mb=2048 \
  -max_len=65536 \
  -print_final_stats=1 \
  -artifact_prefix="$artifacts/" \
  "$corpus" "$ROOT/tests/http/fuzz-corpus"
