#!/usr/bin/env bash
# kvm-unit-tests' heavy tests (sieve, vmexit cpuid / toggle_cr0_wp / toggle_cr4_pge) on vmiemu
# beside QEMU TCG: host CPU seconds (user + system), median of REPS runs, each peer run in turn
# within the same minutes. Prints a Markdown table (docs/BENCHMARKS.md, "kvm-unit-tests' heavy
# tests").
#
#   bench/kvmheavy.sh [VMIEMU] [REPS] [CAP] [ONLY]   (defaults: build/release/vmiemu, 3, 120, all)
#
# ONLY: a regular expression; only the workloads whose name matches run (e.g. 'cpuid|sieve').
#
# Peers: vmiemu as tests/test_kvm_unit_tests.sh runs the test (its instruction bound), QEMU TCG
# with the suite's own command, and QEMU -icount shift=0. The vmexit tests time themselves: they
# double their loop until one round takes 2^30 TSC cycles. vmiemu's TSC counts instructions, and
# so does QEMU's under -icount shift=0 (1 instruction = 1 ns = 1 tick): those two run the same
# instruction stream (about 2^31 instructions). Plain QEMU TCG's TSC is host time, so it runs far
# fewer iterations; its time is not the same work. CAP: CPU seconds after which a run is killed
# (ulimit -t), shown as ">CAP". Guests: $VMIEMU_GUESTS/kvm-unit-tests (default /work/shared/guests).
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
vmiemu=$(realpath "${1:-$here/build/release/vmiemu}")
reps=${2:-3}
cap=${3:-120}
only=${4:-.}
guests=${VMIEMU_GUESTS:-/work/shared/guests}/kvm-unit-tests
qemu=(qemu-system-i386 -nodefaults -device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4
      -serial stdio -display none)
[ -d "$guests/x86" ] || { echo "no kvm-unit-tests in $guests" >&2; exit 77; }
command -v qemu-system-i386 >/dev/null || { echo "no qemu-system-i386" >&2; exit 77; }

# name|kernel|args|vmiemu instruction bound (as in tests/test_kvm_unit_tests.sh)
workloads=(
    "sieve|sieve.flat||9000000000"
    "vmexit cpuid|vmexit.flat|cpuid|3000000000"
    "vmexit toggle_cr0_wp|vmexit.flat|toggle_cr0_wp|300000000"
    "vmexit toggle_cr4_pge|vmexit.flat|toggle_cr4_pge|300000000"
)

# cpu_seconds CMD... -> "user+sys rc" of one run, ">CAP" when the CPU cap killed it
cpu_seconds() {
    local t rc
    t=$(mktemp)
    (ulimit -t "$cap"; cd "$guests" && /usr/bin/time -f '%U %S' -o "$t" "$@" >/dev/null 2>&1 </dev/null)
    rc=$?
    if [ "$rc" -ge 128 ] || [ ! -s "$t" ]; then
        echo ">$cap $rc"
    else
        awk -v rc="$rc" 'END { printf "%.2f %d\n", $(NF-1) + $NF, rc }' "$t"
    fi
    rm -f "$t"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

echo "| test | vmiemu (rc, instructions bound) | QEMU TCG | QEMU -icount shift=0 | vmiemu / QEMU (same work) |"
echo "|---|---|---|---|---|"
for w in "${workloads[@]}"; do
    IFS='|' read -r name kernel args bound <<<"$w"
    [[ "$name" =~ $only ]] || continue
    va=(--serial stdio --snap-every 0 --max-insns "$bound")
    qa=()
    [ -n "$args" ] && { va+=(--append "$args"); qa=(-append "$args"); }
    v=() q=() i=() vrc= qrc= irc=
    for ((r = 0; r < reps; r++)); do
        read -r s vrc < <(cpu_seconds "$vmiemu" "${va[@]}" "x86/$kernel"); v+=("$s")
        read -r s qrc < <(cpu_seconds "${qemu[@]}" -kernel "x86/$kernel" "${qa[@]}"); q+=("$s")
        if [ -n "$args" ]; then
            read -r s irc < <(cpu_seconds "${qemu[@]}" -icount shift=0 -kernel "x86/$kernel" "${qa[@]}"); i+=("$s")
        fi
    done
    vm=$(printf '%s\n' "${v[@]}" | tr -d '>' | median)
    qm=$(printf '%s\n' "${q[@]}" | tr -d '>' | median)
    im=-
    [ ${#i[@]} -gt 0 ] && im=$(printf '%s\n' "${i[@]}" | tr -d '>' | median)
    [[ " ${i[*]} " == *">"* ]] && im=">$im"
    # same work: sieve's is fixed; a vmexit loop's is the same under -icount shift=0 only, and
    # only when vmiemu ran to the end (rc 1) rather than to its bound (rc 8)
    ref=$qm
    [ -n "$args" ] && ref=$im
    ratio=-
    if [ "$vrc" = 1 ] && [[ "$ref" != ">"* ]]; then
        ratio=$(awk -v a="$vm" -v b="$ref" 'BEGIN { printf "%.2f", a / b }')
    elif [ "$vrc" = 1 ]; then
        ratio=$(awk -v a="$vm" -v b="${ref#>}" 'BEGIN { printf "< %.2f", a / b }')
    fi
    echo "| $name | $vm s (rc $vrc, $bound) | $qm s (rc $qrc) | $im s${irc:+ (rc $irc)} | $ratio |"
done
