#!/usr/bin/env bash
# Debian's real gdb debugging the real Linux 2.6.32 VMI kernel on vmiemu, with the kernel's own
# symbols (`file vmlinux`, no DWARF):
#   vmiemu -S --gdb tcp:127.0.0.1:PORT --initrd initramfs.cpio.gz bzImage
# gdb breaks at start_kernel, sets a VMI-call breakpoint with `monitor break vmi SetPxE`,
# continues to the first SetPxE (inside the kernel: the return address and vmiemu's `monitor bt`
# name vmi_set_pte and start_kernel), goes back with reverse-stepi into vmi_set_pte, and
# reverse-continues back to start_kernel at the icount of the first hit. Assertions are greps on
# gdb's output.
#
# Usage: tests/test_gdb_linux.sh [VMIEMU [SOURCE_DIR]]
#   the guest comes from $VMIEMU_GUESTS/vmilinux-2.6.32, else SOURCE_DIR/../shared/guests/...
#   (as tests/test_linux_guest.c finds it); without it the test is skipped (exit 77).
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
vmiemu=${1:-$here/build/release/vmiemu}
src=${2:-$here}
guests=${VMIEMU_GUESTS:-$src/../shared/guests}
guest=$guests/vmilinux-2.6.32
passed=0
failed=0
work=$(mktemp -d "${TMPDIR:-/tmp}/vmiemu-gdb-linux.XXXXXX")
vm_pid=

cleanup() {
    if [ -n "$vm_pid" ] && kill -0 "$vm_pid" 2>/dev/null; then
        kill "$vm_pid" 2>/dev/null
        wait "$vm_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok   - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
check() {
    if grep -Eq -- "$3" "$2"; then
        ok "$1"
    else
        bad "$1 (no /$3/ in $(basename "$2"))"
    fi
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

for f in bzImage vmlinux initramfs.cpio.gz; do
    if [ ! -e "$guest/$f" ]; then
        echo "SKIPPED: no Linux guest ($guest/$f); set VMIEMU_GUESTS to the shared guest directory"
        exit 77
    fi
done
if ! command -v gdb >/dev/null 2>&1; then
    echo "gdb not found: install gdb (Debian: apt-get install gdb)"
    bad "gdb is installed"
    finish
fi

# As gdb prints them: 0xc119e3ad.
sym() { nm "$guest/vmlinux" | awk -v s="$1" '$3 == s { print "0x" $1; exit }'; }
start_kernel=$(sym start_kernel)
if [ -z "$start_kernel" ]; then
    bad "start_kernel found in vmlinux"
    finish
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 40000)))
"$vmiemu" -S --gdb "tcp:127.0.0.1:$port" --serial none --initrd "$guest/initramfs.cpio.gz" --append console=ttyS0 \
    "$guest/bzImage" >"$work/vm.out" 2>"$work/vm.err" &
vm_pid=$!
for _ in $(seq 100); do
    grep -q "listening on 127.0.0.1:$port" "$work/vm.err" 2>/dev/null && break
    sleep 0.1
done

out=$work/session.gdb
timeout 120 gdb -batch -nx -ex "file $guest/vmlinux" -ex "target remote 127.0.0.1:$port" \
    -ex 'break start_kernel' -ex continue -ex 'echo at-start-kernel\n' -ex 'monitor icount' \
    -ex 'monitor break vmi SetPxE' -ex continue -ex 'echo at-setpxe\n' -ex 'monitor bt' -ex 'monitor icount' \
    -ex reverse-stepi -ex reverse-stepi -ex 'echo after-reverse-stepi\n' -ex 'info registers eip' \
    -ex 'monitor delete 2' -ex reverse-continue -ex 'echo after-reverse-continue\n' -ex 'monitor icount' \
    -ex kill >"$out" 2>&1
wait "$vm_pid"
st=$?
vm_pid=

check "gdb reads vmlinux's symbols" "$out" "^Breakpoint 1 at $start_kernel\$"
check "continue stops at start_kernel" "$out" "^Breakpoint 1, $start_kernel in start_kernel \(\)"
check "monitor break vmi sets a VMI-call breakpoint" "$out" "^VMI breakpoint 2 before VMI call SetPxE \\(#38\\)\$"
check "continue stops before the first SetPxE, and says so" "$out" "^VMI breakpoint 2, VMI call SetPxE \\(#38\\) at eip 0x[0-9a-f]{8}\$"
check "gdb sees the VMI-call stop as a trap (not swallowed as a stale breakpoint)" "$out" "Program received signal SIGTRAP"
after_hit=$(sed -n '/^at-setpxe/,/^after-reverse-stepi/p' "$out")
if grep -Eq '^#1  0xc[0-9a-f]{7} <vmi_set_pte\+0x[0-9a-f]+>$' <<<"$after_hit"; then
    ok "monitor bt: SetPxE was called from the kernel's vmi_set_pte"
else
    bad "monitor bt: SetPxE was called from the kernel's vmi_set_pte"
fi
if grep -Eq "^#[0-9]+ +0xc[0-9a-f]{7} <start_kernel\+0x[0-9a-f]+>" <<<"$after_hit"; then
    ok "monitor bt walks back to start_kernel without frame pointers"
else
    bad "monitor bt walks back to start_kernel without frame pointers"
fi
if sed -n '/^after-reverse-stepi/,/^after-reverse-continue/p' "$out" | grep -Eq '^eip +0xc[0-9a-f]+ +0xc[0-9a-f]+ <vmi_set_pte\+[0-9]+>'; then
    ok "reverse-stepi goes back from the ROM into the kernel's vmi_set_pte"
else
    bad "reverse-stepi goes back from the ROM into the kernel's vmi_set_pte"
fi
check "monitor delete removes the VMI-call breakpoint" "$out" "^Deleted VMI breakpoint 2\$"
hits=$(grep -c "^Breakpoint 1, $start_kernel in start_kernel ()" "$out")
if [ "$hits" -eq 2 ]; then ok "reverse-continue stops at start_kernel again"; else bad "reverse-continue stops at start_kernel again ($hits hits)"; fi
first=$(sed -n '/^at-start-kernel/,/^at-setpxe/p' "$out" | awk '/^icount / { print $2; exit }')
back=$(sed -n '/^after-reverse-continue/,$p' "$out" | awk '/^icount / { print $2; exit }')
if [ -n "$first" ] && [ "$first" = "$back" ]; then
    ok "reverse-continue lands on the same instruction count as the first hit ($first)"
else
    bad "reverse-continue lands on the same instruction count as the first hit ($first, then $back)"
fi
check "kill ends the session" "$out" "\[Inferior 1 \(Remote target\) killed\]"
if [ "$st" -eq 16 ]; then ok "vmiemu exits 16 after kill"; else bad "vmiemu exits 16 after kill (status $st)"; fi
if grep -Eiq "error|warning: (remote|architecture)" "$out"; then
    bad "gdb reports no protocol errors"
else
    ok "gdb reports no protocol errors"
fi
[ "$failed" -eq 0 ] || { echo "gdb output:"; sed 's/^/    /' "$out"; echo "vmiemu stderr:"; sed 's/^/    /' "$work/vm.err"; }
finish
