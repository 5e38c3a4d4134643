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

echo "== benchmark smoke run"
"$root/scripts/bench.sh" --quick
echo "test.sh: all passed"
