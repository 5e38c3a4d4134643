#!/usr/bin/env bash
# Set up, then build and run every test twice: a Release build and an AddressSanitizer +
# UndefinedBehaviorSanitizer build. Exits non-zero on any failure or sanitizer report.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)

run_suite() {
    local name=$1 build=$2
    shift 2
    echo "== $name build: $build"
    "$root/scripts/setup.sh" "$build" "$@"
    cmake --build "$build" -j"$jobs"
    ctest --test-dir "$build" --output-on-failure -j"$jobs"
}

run_suite release "$root/build/release" -DCMAKE_BUILD_TYPE=Release
# halt_on_error: any sanitizer report fails its test; leaks count too.
export ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
run_suite sanitize "$root/build/sanitize" -DCMAKE_BUILD_TYPE=Debug -DVMIEMU_SANITIZE=ON

# Each libFuzzer target for a few seconds (scripts/fuzz.sh, docs/ROBUSTNESS.md), so none rots:
# a crash, leak or sanitizer report fails the run. Needs clang with its fuzzer runtime
# (scripts/deps.sh installs both); the long runs are done by hand.
if echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n; }' |
        clang -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
    mkdir -p "$root/build/fuzz/logs"
    # A fresh working corpus: the seeds only, not what long runs grew (minutes to replay).
    VMIEMU_FUZZ_CORPUS=$(mktemp -d)
    export VMIEMU_FUZZ_CORPUS
    trap 'rm -rf "$VMIEMU_FUZZ_CORPUS"' EXIT
    for target in $("$root/scripts/fuzz.sh" --list); do
        log="$root/build/fuzz/logs/smoke-$target.log"
        echo "== fuzz smoke run: $target"
        if ! "$root/scripts/fuzz.sh" "$target" 4 -seed=1 >"$log" 2>&1; then
            tail -n 40 "$log" >&2
            echo "test.sh: fuzz target $target failed (input in build/fuzz/artifacts/$target/)" >&2
            exit 1
        fi
        grep -E "^stat::number_of_executed_units" "$log"
    done
else
    echo "== fuzz smoke runs skipped: clang's libFuzzer runtime is missing (scripts/deps.sh installs it)"
fi

echo "== benchmark smoke run"
"$root/scripts/bench.sh" --quick
echo "test.sh: all passed"
