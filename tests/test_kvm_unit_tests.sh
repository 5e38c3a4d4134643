#!/usr/bin/env bash
# A peer's CPU and platform test suite, kvm-unit-tests (built for i386), on vmiemu: every test
# of its unittests.cfg whose kernel is in the shared guest directory (and every other kernel
# there, without arguments), run as the suite's harness runs it under QEMU (test_args become
# --append; smp cannot be given to vmiemu, and -cpu becomes --cpu max or nothing, below),
# each bounded by an instruction count. Every PASS/FAIL/SKIP line, the SUMMARY and the exit
# status are compared with tests/kvm-unit-tests.expected, where each difference from QEMU 7.2
# TCG has its reason (docs/CONFORMANCE.md). Any other difference fails, a check newly passing
# too, so that the file stays true.
#
# usage: test_kvm_unit_tests.sh VMIEMU SOURCE_DIR [release|sanitize|norom]
#        test_kvm_unit_tests.sh VMIEMU SOURCE_DIR [release|sanitize|norom] --print   (the results, to update the file)
# KUT_ONLY='name name...' with --print: only those tests (for iterating on a few).
# A cfg section whose qemu_params ask for `-cpu max` or a model with features added
# (`-cpu qemu64,+umip`) runs with --cpu max (cpu=max on its result line); the others on the
# default model (coreduo).
# norom: the same tests with --no-rom (issue 18: none of them uses VMI, so the ROM must change
# nothing); the tests that run to their bound are left out, as in the sanitizer build.
# Guests: $VMIEMU_GUESTS/kvm-unit-tests, else SOURCE_DIR/../shared/guests/kvm-unit-tests; exit 77
# (skipped) without them.
set -u
vmiemu=$(realpath "$1") src=$(realpath "$2") mode=${3:-release} print=${4:-}
[ "$mode" = --print ] && { print=--print; mode=release; }
only=${KUT_ONLY:-}
[ -n "$only" ] && [ -z "$print" ] && { echo "KUT_ONLY needs --print"; exit 2; }
guests=${VMIEMU_GUESTS:-$src/../shared/guests}/kvm-unit-tests
cfg=$guests/unittests.cfg
expected=$src/tests/kvm-unit-tests.expected
if [ ! -f "$cfg" ] || [ ! -d "$guests/x86" ]; then
    echo "SKIPPED: no kvm-unit-tests in $guests; set VMIEMU_GUESTS to the shared guest directory"
    exit 77
fi

# Instructions per test: enough for every test that ends on QEMU to end here (the largest,
# taskswitch2 and emulator, need well under 10^8), and a bound for those that spin or wait.
MAX_INSNS=300000000
# Tests that end, but past that bound, and are cheap enough to run to their end here. The vmexit
# loops time themselves with RDTSC until one round takes 2^30 cycles; vmiemu's TSC counts
# instructions, so they run ~2^31 of them (QEMU TCG's TSC is host time: far fewer iterations).
# cpuid ends after 2.15e9 instructions (~38 CPU s, ~57 MIPS), ple_round_robin after 2.28e9
# (~10 s); sieve (fixed work) after 7.79e9 (~63 s; QEMU TCG ~33 s). cr0_wp and cr4_pge stay
# bounded: each CR write (one per ~14 instructions) is a flush inside Unicorn (its 32 KiB jump
# cache and its TLB cleared, then every page refilled through vmiemu's fill hook), ~1.4 us, so
# ~200 CPU s each to their end, which the CI cannot spend; inl_pmtimer (a PM-timer port read
# per round) too. docs/BENCHMARKS.md ("kvm-unit-tests' heavy tests").
# vmexit_tscdeadline (--cpu max: the TSC-deadline timer exists, so the test runs) ends below
# 4e9 (30.6 CPU s, 2026-12-05). vmexit_tscdeadline_immed takes an interrupt every round, each
# ~10 us of host time here (wrmsr stopped and performed exactly, the timer re-planned, the
# vector delivered: 61 CPU s for 3e8 instructions), far from its end at ~2^31: it gets a
# smaller bound, 5e7, so that it costs seconds, not minutes.
declare -A LONG_INSNS=([vmexit_cpuid]=3000000000 [vmexit_ple_round_robin]=3000000000 [sieve]=9000000000
                       [vmexit_tscdeadline]=4000000000 [vmexit_tscdeadline_immed]=50000000)
# The sanitizer build runs the tests that go to their bound ~20x slower: those are left out
# there (marked "heavy" in the expected file), and the rest give the same lines.
heavy=" sieve s3 vmexit_cpuid vmexit_vmcall vmexit_mov_from_cr8 vmexit_mov_to_cr8 vmexit_inl_pmtimer vmexit_ipi vmexit_ipi_halt vmexit_ple_round_robin vmexit_tscdeadline vmexit_tscdeadline_immed vmexit_cr0_wp vmexit_cr4_pge "

# Kernels no cfg section names that exist to test a CPU feature: the model that has it.
# tscdeadline_latency measures the APIC's TSC-deadline timer (CPUID.1:ECX bit 24), which only
# max has; on coreduo it aborts at once.
declare -A OUTSIDE_CFG_CPU=([tscdeadline_latency]=max)

# The tests: "name|file|test_args|cpu" from the cfg, then the kernels no section names.
tests() {
    awk '
        function flush() { if (name != "") print name "|" file "|" args "|" cpu; name = ""; file = ""; args = ""; cpu = "" }
        /^\[.*\]$/ { flush(); name = substr($0, 2, length($0) - 2); next }
        /^file *=/ { sub(/^file *= */, ""); file = $0; next }
        /^test_args *=/ { sub(/^test_args *= */, ""); gsub(/^["\047]|["\047]$/, ""); args = $0; next }
        /^(qemu|extra)_params *=/ {
            # -cpu max, or a model with features added (-cpu qemu64,+umip): vmiemu runs --cpu max
            if (match($0, /-cpu +[^ ]+/)) {
                c = substr($0, RSTART, RLENGTH); sub(/-cpu +/, "", c)
                if (c ~ /^max(,|$)/ || c ~ /,\+/) cpu = "max"
            }
            next
        }
        END { flush() }' "$cfg" |
        while IFS='|' read -r name file args cpu; do
            [ -f "$guests/x86/$file" ] && echo "$name|$file|$args|$cpu"
        done
    for f in "$guests"/x86/*.flat; do
        b=$(basename "$f")
        grep -q "^file *= *$b *$" "$cfg" || echo "${b%.flat}|$b||${OUTSIDE_CFG_CPU[${b%.flat}]:-}"
    done
}

run_one() { # name file args cpu -> the outcome lines
    local name=$1 file=$2 args=$3 cpu=$4 out rc
    local opts=(--serial stdio --snap-every 0 --max-insns "${LONG_INSNS[$name]:-$MAX_INSNS}") tmo=600
    [ -n "${LONG_INSNS[$name]:-}" ] && tmo=1800 # a loaded machine: ~400 s wall for cpuid at load 20
    [ "$mode" = norom ] && opts+=(--no-rom)
    [ -n "$args" ] && opts+=(--append "$args")
    [ -n "$cpu" ] && opts+=(--cpu "$cpu")
    out=$(cd "$guests" && timeout "$tmo" "$vmiemu" "${opts[@]}" "x86/$file" 2>/dev/null </dev/null)
    rc=$?
    echo "[$name] rc=$rc${cpu:+ cpu=$cpu}"
    grep -aE '^(PASS|FAIL|SKIP|XPASS|XFAIL|SUMMARY):' <<<"$out" | tr -d '\r'
}

actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
while IFS='|' read -r name file args cpu; do
    if [ -n "$only" ] && [[ " $only " != *" $name "* ]]; then
        continue
    fi
    if [ "$mode" != release ] && [[ "$heavy" == *" $name "* ]]; then
        echo "[$name] heavy: not run in this mode"
        continue
    fi
    run_one "$name" "$file" "$args" "$cpu"
done < <(tests) >"$actual"

if [ -n "$print" ]; then
    cat "$actual"
    exit 0
fi

# The expected file: the same lines, each may carry "   # reason"; "#" lines are comments.
want=$(mktemp)
trap 'rm -f "$actual" "$want"' EXIT
sed -e '/^#/d' -e 's/ *  # .*$//' "$expected" |
    if [ "$mode" != release ]; then
        awk -v heavy="$heavy" '
            /^\[/ { n = $1; gsub(/[][]/, "", n); skip = index(heavy, " " n " ") > 0
                    if (skip) { print "[" n "] heavy: not run in this mode"; next } }
            !skip'
    else cat; fi >"$want"
if diff -u "$want" "$actual"; then
    echo "kvm-unit-tests: every result as expected ($(grep -c '^\[' "$actual") runs)"
    exit 0
fi
echo "kvm-unit-tests: results differ from $expected (- expected, + vmiemu now)"
exit 1
