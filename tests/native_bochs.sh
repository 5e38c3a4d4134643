#!/usr/bin/env bash
# The test kernels boot natively (no VMI ROM) under Bochs 2.7 from a GRUB ISO
# (bench/bochs-run.sh) and pass there too; test_exit reports through port 0xE9 and the
# Bochs shutdown port, which bochs-run.sh turns into QEMU's exit status (33 = PASS).
# Usage: tests/native_bochs.sh KERNEL_DIR
set -uo pipefail
dir=${1:?usage: native_bochs.sh KERNEL_DIR}
run=$(cd "$(dirname "$0")/.." && pwd)/bench/bochs-run.sh
command -v bochs >/dev/null || { echo "bochs not found: install bochs bochsbios vgabios bochs-sdl"; exit 1; }
command -v grub-mkrescue >/dev/null || { echo "grub-mkrescue not found: install grub-pc-bin xorriso mtools"; exit 1; }
command -v xorriso >/dev/null || { echo "xorriso not found: install xorriso"; exit 1; }
boot() { timeout 120 "$run" --serial - "$1" "$2"; }
# shellcheck source=tests/native_check.sh
. "$(dirname "$0")/native_check.sh"

check hello "exit" "running natively" "hello: PASS"
check loop "iters=1000000" "loop: checksum 0xa1bd604f"
check callloop "iters=10000" "callloop: PASS"
check paging "" "paging: PASS"
finish
