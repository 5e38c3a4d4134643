#!/usr/bin/env bash
# Run one libFuzzer target (tests/fuzz/fuzz_TARGET.c) for SECONDS on one core.
# Usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer options...]
#        scripts/fuzz.sh --list
# Builds build/fuzz with clang (-DVMIEMU_FUZZ=ON: coverage, ASan, UBSan) first. The run starts
# from the checked-in seed corpus (tests/fuzz/corpus/TARGET) and grows a working corpus in
# build/fuzz/corpus/TARGET (or $VMIEMU_FUZZ_CORPUS/TARGET); a crash, leak or timeout leaves its
# input in build/fuzz/artifacts/TARGET/ and makes the script fail. docs/ROBUSTNESS.md has the runs so far.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/fuzz"
targets=$(cd "$root/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')

if [ "${1:-}" = "--list" ]; then
    echo "$targets"
    exit 0
fi
target=${1:?usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer options] (targets: $(echo $targets))}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer options]}
shift 2
if ! echo "$targets" | grep -qx "$target"; then
    echo "fuzz: no target '$target' (targets: $(echo $targets))" >&2
    exit 2
fi

if [ ! -f "$build/CMakeCache.txt" ]; then
    CC=clang "$root/scripts/setup.sh" "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMIEMU_FUZZ=ON -DVMIEMU_TESTS=OFF
fi
cmake --build "$build" -j"${VMIEMU_FUZZ_BUILD_JOBS:-2}" --target "fuzz_$target" >/dev/null

corpus="${VMIEMU_FUZZ_CORPUS:-$build/corpus}/$target"
artifacts="$build/artifacts/$target"
mkdir -p "$corpus" "$artifacts"
args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=30 -rss_limit_mb=2048
      -artifact_prefix="$artifacts/")
[ -f "$root/tests/fuzz/$target.dict" ] && args+=(-dict="$root/tests/fuzz/$target.dict")
# Leaks are findings too; a guest stuck in a loop is bounded by the targets themselves. (Unicorn's
# own memcmp calls skip ASan's interceptor and libFuzzer's comparison hook in this build:
# tests/fuzz/unicorn_memcmp.c.)
asan=detect_leaks=1:abort_on_error=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-$asan}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
cd "$build"
exec "$build/tests/fuzz/fuzz_$target" "${args[@]}" "$@" "$corpus" "$root/tests/fuzz/corpus/$target"
