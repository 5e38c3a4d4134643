#!/usr/bin/env bash
# The test kernels boot natively (no VMI ROM) under QEMU and pass there too: one VMI binary
# runs on bare hardware. Usage: tests/native_qemu.sh KERNEL_DIR
set -uo pipefail
dir=${1:?usage: native_qemu.sh KERNEL_DIR}
qemu=$(command -v qemu-system-i386) || { echo "qemu-system-i386 not found: install qemu-system-x86"; exit 1; }
boot() {
    timeout 120 "$qemu" -kernel "$1" -append "$2" -display none -monitor none -serial stdio -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04
}
# shellcheck source=tests/native_check.sh
. "$(dirname "$0")/native_check.sh"

check hello "exit" "running natively" "hello: PASS"
check loop "iters=1000000" "loop: checksum 0xa1bd604f"
check callloop "iters=10000" "callloop: PASS"
for k in exceptions paging usermode timer descriptors linuxlike; do
    if [ -f "$dir/$k.elf" ]; then check "$k" "" "$k: PASS"; fi
done
# The VMI checker's guest: every case, violation or not, runs natively and passes.
if [ -f "$dir/vmicheck.elf" ]; then
    for c in clean pt-write dt-write raw-cr3 raw-cr0read raw-lgdt raw-invlpg raw-wbinvd raw-wrmsr raw-sti raw-popf \
             stale-tlb unregistered-pxe page-balance; do
        check vmicheck "$c" "vmicheck: PASS"
    done
fi
finish
