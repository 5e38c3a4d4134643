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
cleanup() { tmux -L "$first_sock" kill-server 2>/dev/null; tmux -L "$first_sock-b" kill-server 2>/dev/null; rm -rf "$home"; }
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

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
