#!/usr/bin/env bash
# The test kernels boot natively (no VMI ROM) under QEMU and pass there too: one VMI binary
# runs on bare hardware. Usage: tests/native_qemu.sh KERNEL_DIR
set -uo pipefail
dir=${1:?usage: native_qemu.sh KERNEL_DIR}
qemu=$(command -v qemu-system-i386) || { echo "qemu-system-i386 not found: install qemu-system-x86"; exit 1; }
failed=0 passed=0

# check NAME APPEND EXPECTED-TEXT...
check() {
    local name=$1 append=$2 out status
    shift 2
    out=$(timeout 120 "$qemu" -kernel "$dir/$name.elf" -append "$append" -display none -monitor none \
          -serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null 2>&1)
    status=$?
    local ok=1
    [ "$status" -eq 33 ] || { echo "FAIL $name ($append): exit status $status, want 33"; ok=0; }
    for want in "$@"; do
        grep -qF -- "$want" <<<"$out" || { echo "FAIL $name ($append): output lacks '$want'"; ok=0; }
    done
    if [ $ok -eq 1 ]; then passed=$((passed + 1)); echo "ok   $name ($append)"; else failed=$((failed + 1)); echo "$out" | sed 's/^/     | /'; fi
}

check hello "exit" "running natively" "hello: PASS"
check loop "iters=1000000" "loop: checksum 0xa1bd604f"
check callloop "iters=10000" "callloop: PASS"
for k in exceptions paging usermode timer descriptors linuxlike; do
    if [ -f "$dir/$k.elf" ]; then check "$k" "" "$k: PASS"; fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
