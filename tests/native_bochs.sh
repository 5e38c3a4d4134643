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
failed=0 passed=0

# check NAME CMDLINE EXPECTED-TEXT...
check() {
    local name=$1 cmdline=$2 out status
    shift 2
    out=$(timeout 120 "$run" --serial - "$dir/$name.elf" "$cmdline" </dev/null 2>&1)
    status=$?
    local ok=1
    [ "$status" -eq 33 ] || { echo "FAIL $name ($cmdline): exit status $status, want 33"; ok=0; }
    for want in "$@"; do
        grep -qF -- "$want" <<<"$out" || { echo "FAIL $name ($cmdline): output lacks '$want'"; ok=0; }
    done
    if [ $ok -eq 1 ]; then passed=$((passed + 1)); echo "ok   $name ($cmdline)"; else failed=$((failed + 1)); echo "$out" | sed 's/^/     | /'; fi
}

check hello "exit" "running natively" "hello: PASS"
check loop "iters=1000000" "loop: checksum 0xa1bd604f"
check callloop "iters=10000" "callloop: PASS"
check paging "" "paging: PASS"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
