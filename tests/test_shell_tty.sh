#!/usr/bin/env bash
# The interactive debugger as a person uses it, in a real terminal (tmux): the prompt, tab
# completion, a breakpoint, Ctrl-C on a running guest, and history saved across runs.
# Usage: tests/test_shell_tty.sh VMIEMU KERNEL_DIR
set -uo pipefail
vmiemu=${1:?usage: test_shell_tty.sh VMIEMU KERNEL_DIR}
kernels=${2:?usage: test_shell_tty.sh VMIEMU KERNEL_DIR}
command -v tmux >/dev/null || { echo "tmux not found: install tmux"; exit 1; }
home=$(mktemp -d)
sock="vmiemu-tty-$$"
passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); tmux -L "$sock" capture-pane -p -t t 2>/dev/null | sed 's/^/     | /'; }
first_sock=$sock
cleanup() {
    local suffix
    for suffix in "" -b -c -d; do tmux -L "$first_sock$suffix" kill-server 2>/dev/null; done
    rm -rf "$home"
}
trap cleanup EXIT

screen() { tmux -L "$sock" capture-pane -p -t t; }
# wait_for TEXT [SECONDS]: until the pane shows TEXT
wait_for() {
    local i
    for ((i = 0; i < ${2:-20} * 10; i++)); do
        screen | grep -qF -- "$1" && return 0
        sleep 0.1
    done
    return 1
}
keys() { tmux -L "$sock" send-keys -t t "$@"; }
start() { tmux -L "$sock" new-session -d -s t -x 160 -y 50 "HOME=$home $vmiemu $*; sleep 30"; }

start -d --serial none "$kernels/hello.elf"
if wait_for "(vmiemu)"; then ok "the prompt appears, stopped before the first instruction"; else bad "prompt"; fi
keys "disas" Tab
if wait_for "disassemble"; then ok "tab completes a command name"; else bad "command completion"; fi
keys C-u "break km" Tab
if wait_for "break kmain"; then ok "tab completes a kernel symbol"; else bad "symbol completion"; fi
keys Enter "continue" Enter
if wait_for "Breakpoint 1, 0x"; then ok "break + continue stop at kmain"; else bad "breakpoint"; fi
keys "quit" Enter
sleep 0.5
if grep -qx "continue" "$home/.vmiemu_history"; then ok "history is saved"; else bad "history file"; fi
tmux -L "$sock" kill-server 2>/dev/null
# A server of its own for the second session: a new session on a socket whose server is still
# shutting down fails with "server exited unexpectedly".
sock="$sock-b"

start -d --serial none --append iters=4000000000 "$kernels/loop.elf"
wait_for "(vmiemu)" >/dev/null
keys "continue" Enter
sleep 1.5
keys C-c
if wait_for "Interrupted at"; then ok "Ctrl-C stops a running guest"; else bad "Ctrl-C"; fi
keys Up Up
if wait_for "(vmiemu) continue"; then ok "history recalls earlier commands"; else bad "history recall"; fi
tmux -L "$sock" kill-server 2>/dev/null

# Signals in the interactive shell, as gdb takes them, and as a plain run ends on SIGTERM.
# start_pid ARGS: like start, with vmiemu's pid in $home/pid and its exit status shown on the
# pane as EXIT=N.
start_pid() {
    rm -f "$home/pid"
    tmux -L "$sock" new-session -d -s t -x 160 -y 50 \
        "sh -c 'echo \$\$ > $home/pid; HOME=$home exec $vmiemu $*'; echo EXIT=\$?; sleep 30"
    local i
    for ((i = 0; i < 100; i++)); do [ -s "$home/pid" ] && break; sleep 0.1; done
    pid=$(cat "$home/pid")
}
sock="$first_sock-c"

start_pid -d --serial none "$kernels/hello.elf"
wait_for "(vmiemu)" >/dev/null
keys "break kmai"
sleep 0.3
keys C-c
sleep 0.3
keys "stepi" Enter
if wait_for "Quit" 5 && wait_for "=> 0x" 5 && ! screen | grep -q "kmaistepi"; then
    ok "Ctrl-C at the prompt drops the typed line and gives a new prompt"
else bad "Ctrl-C at the prompt"; fi
kill -TERM "$pid"
if wait_for "EXIT=143" 10; then ok "SIGTERM at the prompt ends the session with status 143"; else bad "SIGTERM at the prompt"; fi
tmux -L "$sock" kill-server 2>/dev/null
sock="$first_sock-d"

start_pid -d --serial "file:$home/serial" --log "$home/log" --snap-every 100000 --record "$home/rec" \
    --append iters=1000000000 "$kernels/callloop.elf"
wait_for "(vmiemu)" >/dev/null
keys "continue" Enter
sleep 1.5
kill -TERM "$pid"
if wait_for "EXIT=143" 10 && screen | grep -q "stopped by SIGTERM"; then
    ok "SIGTERM during continue stops the guest and exits 143"
else bad "SIGTERM during continue"; fi
if grep -q "callloop" "$home/serial" 2>/dev/null && [ "$(tail -c 1 "$home/log" | od -An -c | tr -d ' ')" = '\n' ]; then
    ok "the serial file and the log are flushed"
else bad "serial file / log after SIGTERM"; fi
replay_out=$("$vmiemu" --serial none --replay "$home/rec" "$kernels/callloop.elf" 2>&1); replay_status=$?
if [ "$replay_status" -eq 16 ] && grep -q "where the recording was stopped" <<<"$replay_out"; then
    ok "the record got its end: it replays up to the stop"
else echo "$replay_out" | sed 's/^/     | /'; bad "record after SIGTERM (replay status $replay_status)"; fi
tmux -L "$sock" kill-server 2>/dev/null

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
