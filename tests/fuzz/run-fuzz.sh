#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# tests/fuzz/run-fuzz.sh DIR SECONDS — builds the libFuzzer targets with
# clang, ASan and UBSan in build directory DIR and runs fuzz-ical for
# SECONDS seconds over a copy of the seed corpus (tests/fuzz/corpus, plus
# the shipped holiday calendars and the golden files as read-only seeds).
# New inputs libFuzzer finds stay in DIR/fuzz-corpus; a crash leaves its
# input in DIR/fuzz-artifacts and makes the script fail.
#
# Exit status: 0 when the run finished clean, non-zero otherwise.
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
ninja -C "$DIR" tests/fuzz/fuzz-ical >/dev/null

corpus=$DIR/fuzz-corpus
artifacts=$DIR/fuzz-artifacts
mkdir -p "$corpus" "$artifacts"
cp -n "$ROOT"/tests/fuzz/corpus/*.ics "$corpus"/

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/lsan.supp}

echo "run-fuzz: fuzz-ical for ${SECONDS_TO_RUN}s, corpus $corpus" >&2
"$DIR"/tests/fuzz/fuzz-ical \
  -max_total_time="$SECONDS_TO_RUN" \
  -timeout=20 \
  -rss_limit_mb=2048 \
  -max_len=65536 \
  -print_final_stats=1 \
  -artifact_prefix="$artifacts/" \
  "$corpus" "$ROOT/tests/fuzz/corpus" "$ROOT/calendars" \
  "$ROOT/tests/data/golden"
