#!/usr/bin/env bash
# Builds the libFuzzer target tests/fuzz/fuzz_pds.c (clang, with ASan and
# UBSan) and runs it for SECONDS (default 60) on one core.
#
#   tests/fuzz/run.sh [SECONDS] [extra libFuzzer flags...]
#
# Env: FUZZ_BUILD (build folder, default build/fuzz), CC (default clang).
# New inputs go to $FUZZ_BUILD/corpus (seeded from tests/fuzz/corpus, which
# is left as it is); crashes to $FUZZ_BUILD/crash-*. Exit status: libFuzzer's
# (nonzero on a crash, a leak, a timeout or a contract violation).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seconds="${1:-60}"
shift || true
build="${FUZZ_BUILD:-$root/build/fuzz}"
cc="${CC:-clang}"
mkdir -p "$build/corpus"

# (-ffp-contract=off -fno-math-errno: the flags the core is built with, see
# CMakeLists.txt; without them clang fused multiply-adds in the vector scan)
"$cc" -g -O1 -std=c11 -fno-omit-frame-pointer -ffp-contract=off -fno-math-errno \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$root/csrc" \
  "$root"/csrc/pds_*.c \
  "$here/fuzz_pds.c" -lm -o "$build/fuzz_pds"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd "$build"
exec ./fuzz_pds corpus "$here/corpus" -max_total_time="$seconds" -timeout=60 \
  -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 "$@"
