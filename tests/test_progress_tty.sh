#!/usr/bin/env bash
# The progress line of long work (a replay, a --max-insns run): on stderr when it is a terminal
# (a pty from script(1)), redrawn in place and erased at the end; absent when stderr is a file.
# Usage: tests/test_progress_tty.sh VMIEMU KERNEL_DIR
set -uo pipefail
vmiemu=${1:?usage: test_progress_tty.sh VMIEMU KERNEL_DIR}
kernels=${2:?usage: test_progress_tty.sh VMIEMU KERNEL_DIR}
command -v script >/dev/null || { echo "script not found: install bsdutils"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); sed 's/^/     | /' "$2" | cat -v | head -20; }

# on_pty OUT CMD...: run CMD with stdin, stdout and stderr on a pty; everything it wrote in OUT.
on_pty() {
    local out=$1
    shift
    script -qfec "$(printf '%q ' "$@")" /dev/null </dev/null >"$out" 2>&1
}

# The line is drawn from the first host boundary (10^6 instructions) on, whatever the speed.
on_pty "$tmp/run" "$vmiemu" --serial none --max-insns 5000000 --append iters=100000000 "$kernels/loop.elf"
if grep -qa "run: [0-9]* of 5000000 instructions ([0-9]*%)" "$tmp/run"; then
    ok "a --max-insns run on a terminal shows instructions done of the limit"
else bad "progress line of a --max-insns run" "$tmp/run"; fi
# Erased before the last message: the last drawing is followed by \r ESC [K.
last=$(tr '\r' '\n' <"$tmp/run" | grep -a -n "instructions (" | tail -1 | cut -d: -f1)
after=$(tr '\r' '\n' <"$tmp/run" | sed -n "$((last + 1))p")
if [ -n "$last" ] && [[ "$after" == $'\e[K'* ]] && grep -qa "instruction limit reached" "$tmp/run"; then
    ok "the line is erased before the run's last message"
else bad "erasing the progress line" "$tmp/run"; fi

"$vmiemu" --serial none --max-insns 5000000 --append iters=100000000 "$kernels/loop.elf" 2>"$tmp/file" >/dev/null
if ! grep -qa "instructions (" "$tmp/file" && ! grep -qa $'\r' "$tmp/file" && grep -qa "instruction limit" "$tmp/file"; then
    ok "no progress line when stderr is a file"
else bad "stderr to a file" "$tmp/file"; fi

"$vmiemu" --serial none --record "$tmp/rec" --append iters=300000 "$kernels/callloop.elf" 2>/dev/null
"$vmiemu" --serial none --replay "$tmp/rec" "$kernels/callloop.elf" 2>"$tmp/replay-file"
end=$(grep -ao "at icount [0-9]*" "$tmp/replay-file" | tail -1 | cut -d' ' -f3)
on_pty "$tmp/replay" "$vmiemu" --serial none --replay "$tmp/rec" "$kernels/callloop.elf"
if [ -n "$end" ] && grep -qa "replay: [0-9]* of $end instructions" "$tmp/replay" && grep -qa "replay matched" "$tmp/replay"; then
    ok "a replay on a terminal counts toward the record's end ($end instructions)"
else bad "progress line of a replay (end $end)" "$tmp/replay"; fi

# With the event log as text on stderr, the line would mix with it: no line.
on_pty "$tmp/logtext" "$vmiemu" --serial none --log - --max-insns 5000000 --append iters=100000000 "$kernels/loop.elf"
if ! grep -qa "instructions (" "$tmp/logtext" && grep -qa "icount=" "$tmp/logtext"; then
    ok "no progress line with --log - on stderr"
else bad "--log -" "$tmp/logtext"; fi

# Under the debugger the terminal belongs to the prompt: no line.
printf 'continue\n' >"$tmp/script"
on_pty "$tmp/shell" "$vmiemu" --serial none --max-insns 5000000 --append iters=100000000 -x "$tmp/script" "$kernels/loop.elf"
if ! grep -qa "instructions (" "$tmp/shell"; then ok "no progress line under the debugger"; else bad "debugger" "$tmp/shell"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
