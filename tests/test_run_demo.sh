#!/usr/bin/env bash
# The README's first command, scripts/run.sh with no kernel: the demo kernel passes, prints on
# this terminal and ends through VMI Shutdown, exit status 0. VMIEMU points run.sh at this build's
# binary (no set-up, no rebuild). Usage: test_run_demo.sh SOURCE_DIR VMIEMU
set -uo pipefail
src=$1
export VMIEMU=$2
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$src/scripts/run.sh" </dev/null >"$out" 2>"$err"
status=$?
fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"; exit 1; }
[ "$status" -eq 0 ] || fail "run.sh exited $status, want 0"
grep -q '^hello: PASS' "$out" || fail "no 'hello: PASS'"
grep -q '^ending: shutdown' "$out" || fail "the demo did not end through Shutdown"
grep -qx 'vmiemu: exit status 0' "$err" || fail "no 'vmiemu: exit status 0' on stderr"
# A kernel given on the command line keeps its own status (the exit port's 33 for PASS).
"$src/scripts/run.sh" "$(dirname "$VMIEMU")/testkernels/hello.elf" --serial none </dev/null >"$out" 2>"$err"
status=$?
[ "$status" -eq 33 ] || fail "run.sh KERNEL exited $status, want the kernel's own 33"
echo "ok"
