#!/usr/bin/env bash
# Benchmarks vmiemu against QEMU on the test kernels and prints a Markdown report.
#
#   scripts/bench.sh [--quick] [--reps N] [--no-build]
#
# Builds the Release tree (scripts/setup.sh + cmake --build into build/release) and the
# benchmark kernels (bench/kernels.mk into build/release/bench), then times
#   - guest MIPS on loop.elf: vmiemu (also --no-rom, and --snap-every 0 when vmiemu has it),
#     QEMU TCG, QEMU -icount shift=0 and QEMU -icount shift=0,rr=record; and the same loop on
#     bare Unicorn (bench/ucloop.c) with no hook and with an empty block hook;
#   - VMI GetCycleCounter calls per second on callloop.elf: vmiemu, and vmiemu --log FILE;
#   - page-table updates on pteloop.elf (SetPxE + InvalPage; natively stores + invlpg) and
#     timer interrupts on irqloop.elf (busy loop, and Halt between ticks): vmiemu, vmiemu
#     --no-rom, QEMU TCG and QEMU -icount shift=0 (irqloop: shift=0,sleep=off);
#   - whole runs of the paging.elf and timer.elf test kernels (wall time; vmiemu's instruction
#     count from its --log end event), vmiemu next to QEMU TCG and -icount.
# Each rate comes from a small and a big iteration count, so start-up cost cancels out.
# Medians over --reps repetitions (default 5). Without --quick the report also replaces the
# generated block of docs/BENCHMARKS.md.
# --quick: tiny counts, 1 repetition, fewer peers, docs untouched (a smoke test: exit status 0
# iff everything built, ran and passed). --no-build: use the existing build/release as is (the
# benchmark kernels are still brought up to date: make, incremental).
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "$0")/.." && pwd)
build_rel=build/release
vmiemu=$build_rel/vmiemu   # until snapshot() points these at copies
kdir=$build_rel/testkernels
bdir=$build_rel/bench      # bench/kernels.mk output
doc=docs/BENCHMARKS.md
pass_status=33   # isa-debug-exit TEST_PASS; bench/ucloop exits 0

quick=0
reps=
do_build=1
invocation="scripts/bench.sh${*:+ $*}"

die() {
    echo "bench: error: $*" >&2
    exit 1
}

note() { echo "bench: $*" >&2; }

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

# Iteration counts: small[B] and big[B] for benchmark B, big[B:PEER] where a peer needs its
# own (about 2 s of difference per peer in the default mode); check[B] (set_checks) is the
# count of the untimed run that checks every peer's output (the same for all, so results are
# comparable).
declare -A small=() big=() check=() whole_try=() whole_peers=()

parse_args() {
    while [ $# -gt 0 ]; do
        case $1 in
            --quick) quick=1 ;;
            --reps)
                [ $# -ge 2 ] || die "--reps needs a number"
                [[ $2 =~ ^[1-9][0-9]*$ ]] || die "--reps: '$2' is not a positive integer"
                reps=$2
                shift ;;
            --no-build) do_build=0 ;;
            -h|--help) usage; exit 0 ;;
            *) usage >&2; die "unknown argument '$1'" ;;
        esac
        shift
    done
    # PIT period (ticks of 1193182 Hz) irqloop gets under plain QEMU TCG, where the PIT runs in
    # real time: its fastest practical rate there (24 ticks = 20.1 us). On the 2-core VM QEMU
    # 7.2 delivered no faster than one interrupt per ~21 us whatever the period; at 1-4 ticks it
    # starved the guest (at most a few hundred interrupts in seconds), at 6 an interrupt took
    # ~300 us, at 12 the run time varied 5x between identical runs. (-icount runs the PIT in
    # virtual time: there the default, 2 ticks, works.)
    tcg_pit=24
    timer_args=""   # timer.elf's command line: its defaults (100 Hz, 10 ticks)
    if [ "$quick" = 1 ]; then
        reps=${reps:-1}
        small[loop]=1000 big[loop]=200000
        small[callloop]=100 big[callloop]=2000
        small[pteloop]=100 big[pteloop]=1000
        small[irqspin]=100 big[irqspin]=1000
        small[irqhalt]=100 big[irqhalt]=1000
        run_timeout=60
    else
        reps=${reps:-5}
        # About 2 s per big run on a 2-core EPYC VM. Plain QEMU TCG is ~5x faster on the loop
        # and far faster on pteloop: they get bigger counts, so that t(big) - t(small) is also
        # ~2 s and not swamped by noise.
        small[loop]=1000 big[loop]=200000000 big[loop:qemu-tcg]=1200000000
        small[callloop]=1000 big[callloop]=1500000
        small[pteloop]=1000 big[pteloop]=20000 big[pteloop:vmiemu-nosnap]=25000
        big[pteloop:vmiemu-norom]=600000 big[pteloop:qemu-tcg]=1500000
        big[pteloop:qemu-icount]=2000000
        small[irqspin]=1000 big[irqspin]=60000 big[irqspin:qemu-tcg]=100000
        big[irqspin:qemu-icount-nosleep]=80000
        small[irqhalt]=1000 big[irqhalt]=400000 big[irqhalt:qemu-tcg]=100000
        big[irqhalt:qemu-icount-nosleep]=80000
        run_timeout=600
    fi
}

# check[B]: the smallest big count among B's peers (loop: the common one, not plain TCG's).
set_checks() {
    local b peer n
    check[loop]=${big[loop]}
    check[callloop]=${big[callloop]}
    for b in pteloop irqspin irqhalt; do
        check[$b]=${big[$b]}
        if [ "$b" = pteloop ]; then set -- "${pte_peers[@]}"; else set -- "${irq_peers[@]}"; fi
        for peer; do
            n=$(big_of "$b" "$peer")
            if [ "$n" -lt "${check[$b]}" ]; then check[$b]=$n; fi
        done
    done
}

build() {
    [ "$do_build" = 1 ] || { note "skipping the build (--no-build)"; return; }
    note "building $build_rel (Release)"
    "$root/scripts/setup.sh" "$build_rel" -DCMAKE_BUILD_TYPE=Release >&2 \
        || die "scripts/setup.sh failed"
    cmake --build "$build_rel" -j2 >&2 || die "the build failed"
}

# The benchmark kernels: testkernels/lib + bench/kernels/*.c, testkernels' gcc flags.
build_kernels() {
    command -v make >/dev/null || die "make not found: install make"
    note "building the benchmark kernels into $bdir"
    make -s -f bench/kernels.mk OUT="$bdir" -j2 >&2 || die "bench/kernels.mk failed"
}

check_tools() {
    command -v qemu-system-i386 >/dev/null \
        || die "qemu-system-i386 not found: install qemu-system-x86 (sudo apt-get install qemu-system-x86)"
    command -v python3 >/dev/null || die "python3 not found: install python3"
    command -v timeout >/dev/null || die "timeout not found: install coreutils"
    [ -x "$vmiemu" ] || die "$vmiemu is missing: the build did not produce it"
    local k
    for k in loop callloop paging timer; do
        [ -f "$kdir/$k.elf" ] || die "$kdir/$k.elf is missing: the testkernels target did not build"
    done
    for k in pteloop irqloop; do
        [ -f "$bdir/$k.elf" ] || die "$bdir/$k.elf is missing: bench/kernels.mk did not build it"
    done
}

# Runs a copy of the binary and kernels taken right after the build, so that someone
# rebuilding build/release meanwhile cannot swap them (or make them vanish) mid-run.
snapshot() {
    cp "$vmiemu" "$tmp/vmiemu"
    cp "$kdir/loop.elf" "$kdir/callloop.elf" "$kdir/paging.elf" "$kdir/timer.elf" \
       "$bdir/pteloop.elf" "$bdir/irqloop.elf" "$tmp/"
    vmiemu=$tmp/vmiemu
    kdir=$tmp
    bdir=$tmp
}

# bench/ucloop.c against the libunicorn.a vmiemu links (the wheel in build/venv).
build_ucloop() {
    unicorn_dir=$("$root/build/venv/bin/python" -c \
        'import os, unicorn; print(os.path.dirname(unicorn.__file__))') \
        || die "cannot find the unicorn package in build/venv: run scripts/setup.sh"
    ucloop_build=(cc -std=c11 -O2 -Wall -Wextra -Werror -I "$unicorn_dir/include" bench/ucloop.c
                  "$unicorn_dir/lib/libunicorn.a" -lpthread -lm -o "$tmp/ucloop")
    "${ucloop_build[@]}" >&2 || die "cannot compile bench/ucloop.c"
}

# Wall-clock seconds with microseconds, without forking (bash 5), or from date.
now() {
    if [ -n "${EPOCHREALTIME:-}" ]; then
        printf '%s\n' "$EPOCHREALTIME"
    else
        date +%s.%N
    fi
}

meta() { printf '%s\t%s\n' "$1" "$2" >>"$tmp/meta.tsv"; }

# The kernel each benchmark runs, and its command line at count N for PEER.
bench_kernel() {
    case $1 in
        irqspin|irqhalt) echo irqloop ;;
        *) echo "$1" ;;
    esac
}

bench_args() {
    local bench=$1 peer=$2 n=$3 pit=
    [ "$peer" = qemu-tcg ] && pit=" pit=$tcg_pit"
    case $bench in
        loop|callloop|pteloop) echo "iters=$n" ;;
        irqspin) echo "iters=$n spin$pit" ;;
        irqhalt) echo "iters=$n halt$pit" ;;
        paging) echo "" ;;
        timer) echo "$timer_args" ;;
        *) die "internal: unknown benchmark $bench" ;;
    esac
}

kernel_path() {
    case $1 in
        pteloop|irqloop) echo "$bdir/$1.elf" ;;
        *) echo "$kdir/$1.elf" ;;
    esac
}

# peer_cmd PEER KERNEL ARGS SERIAL: sets the array `cmd` (SERIAL: none or file:PATH; ARGS the
# kernel command line, may be empty) and `expect`, its exit status on success. The array
# `vmiemu_extra` (normally empty) goes into every vmiemu command.
vmiemu_extra=()
peer_cmd() {
    local peer=$1 kernel args=$3 serial=$4
    kernel=$(kernel_path "$2")
    local exitdev=isa-debug-exit,iobase=0xf4,iosize=0x04
    local qappend=() vappend=()
    if [ -n "$args" ]; then
        qappend=(-append "$args")
        vappend=(--append "$args")
    fi
    local qemu=(qemu-system-i386 -kernel "$kernel" "${qappend[@]}" -display none
                -monitor none -serial "$serial" -device "$exitdev")
    local v=("$vmiemu" "${vmiemu_extra[@]}")
    expect=$pass_status
    case $peer in
        vmiemu)        cmd=("${v[@]}" --serial "$serial" "${vappend[@]}" "$kernel") ;;
        vmiemu-norom)  cmd=("${v[@]}" --no-rom --serial "$serial" "${vappend[@]}" "$kernel") ;;
        vmiemu-nosnap) cmd=("${v[@]}" --snap-every 0 --serial "$serial" "${vappend[@]}" "$kernel") ;;
        vmiemu-log)    cmd=("${v[@]}" --serial "$serial" --log "$tmp/events.jsonl"
                            "${vappend[@]}" "$kernel") ;;
        qemu-tcg)      cmd=("${qemu[@]}") ;;
        qemu-icount)   cmd=("${qemu[@]}" -icount shift=0) ;;
        qemu-icount-nosleep) cmd=("${qemu[@]}" -icount "shift=0,sleep=off") ;;
        qemu-rr)       cmd=("${qemu[@]}" -icount "shift=0,rr=record,rrfile=$tmp/replay.bin") ;;
        unicorn)       cmd=("$tmp/ucloop" none "${3#iters=}") expect=0 ;;
        unicorn-hook)  cmd=("$tmp/ucloop" block "${3#iters=}") expect=0 ;;
        *) die "internal: unknown peer $peer" ;;
    esac
}

# run_cmd: runs `cmd` under timeout, stdout/stderr to files; dies unless it exits with $expect.
# try_cmd: the same, but returns 1 (after the same report) instead of dying.
try_cmd() {
    local rc=0
    timeout "$run_timeout" "${cmd[@]}" </dev/null >"$tmp/stdout" 2>"$tmp/stderr" || rc=$?
    [ "$rc" -eq "$expect" ] && return 0
    {
        echo "bench: FAILED: ${cmd[*]}"
        if [ "$rc" -eq 124 ]; then
            echo "bench:   timed out after ${run_timeout}s"
        else
            echo "bench:   exit status $rc, expected $expect (pass)"
        fi
        sed 's/^/bench:   stderr: /' "$tmp/stderr" | tail -n 20
        [ -s "$tmp/serial.txt" ] && sed 's/^/bench:   serial: /' "$tmp/serial.txt" | tail -n 20
    } >&2
    failed_rc=$rc
    return 1
}

run_cmd() { try_cmd || exit 1; }

# Untimed run of benchmark BENCH at count N with the serial port captured in serial.txt.
serial_cmd() {
    local peer=$1 bench=$2 n=$3
    rm -f "$tmp/serial.txt" "$tmp/events.jsonl"
    peer_cmd "$peer" "$(bench_kernel "$bench")" "$(bench_args "$bench" "$peer" "$n")" \
        "file:$tmp/serial.txt"
}

serial_run() {
    serial_cmd "$@"
    run_cmd
    case $1 in unicorn*) cp "$tmp/stdout" "$tmp/serial.txt" ;; esac
    [ -s "$tmp/serial.txt" ] || die "$1 printed nothing on the serial port: ${cmd[*]}"
}

serial_text() { tr '\n' '|' <"$tmp/serial.txt"; }

# has_line PEER LINE...: every LINE is a whole line of serial.txt, or die.
has_line() {
    local peer=$1 line
    shift
    for line in "$@"; do
        grep -qxF "$line" "$tmp/serial.txt" \
            || die "$peer: no line '$line' in its serial output: $(serial_text)"
    done
}

verify_loop() {
    local peer first_peer='' first_sum='' sum n=${check[loop]}
    for peer in "${loop_peers[@]}"; do
        serial_run "$peer" loop "$n"
        case $peer in
            unicorn) ;;
            unicorn-hook)
                grep -qx "ucloop: $n blocks" "$tmp/serial.txt" \
                    || die "$peer: expected 'ucloop: $n blocks': $(serial_text)"
                meta check "bare Unicorn with the block hook, iters=$n: the hook ran $n times, once per iteration: the loop is one translated block of 6 instructions" ;;
            *) has_line "$peer" "loop: $n iterations" ;;
        esac
        sum=$(sed -n 's/^u\{0,1\}c\{0,1\}loop: checksum \(0x[0-9a-fA-F]*\)$/\1/p' "$tmp/serial.txt")
        [ -n "$sum" ] || die "$peer: no 'loop: checksum' line in its output"
        if [ -z "$first_peer" ]; then
            first_peer=$peer first_sum=$sum
        elif [ "$sum" != "$first_sum" ]; then
            die "loop checksum mismatch at iters=$n: $first_peer $first_sum, $peer $sum"
        fi
    done
    meta check "loop iters=$n: a passing exit status and checksum $first_sum from all of ${loop_peers[*]}"
}

verify_call() {
    local peer counters events n=${check[callloop]}
    for peer in "${call_peers[@]}"; do
        serial_run "$peer" callloop "$n"
        has_line "$peer" "callloop: GetCycleCounter via the ROM" "callloop: $n calls" "callloop: PASS"
        counters=$(sed -n 's/^callloop: counter \([0-9]*\) -> \([0-9]*\)$/\1 \2/p' "$tmp/serial.txt")
        [ -n "$counters" ] || die "$peer: no 'callloop: counter A -> B' line"
        if [ "$peer" = vmiemu-log ]; then
            # callloop reads the counter once before its loop: N + 1 calls in all.
            events=$(grep -c '"kind":"vmi","call":"GetCycleCounter"' "$tmp/events.jsonl" || true)
            [ "$events" -eq "$((n + 1))" ] \
                || die "vmiemu --log: $events GetCycleCounter events in the log, expected $((n + 1))"
            tail -n 1 "$tmp/events.jsonl" | grep -q '"kind":"end"' \
                || die "vmiemu --log: the log does not end with an \"end\" event"
            meta check "callloop.elf iters=$n with \`--log\`: $events GetCycleCounter events (N + 1: one read before the loop) and a final \"end\" event in the log"
        fi
    done
    meta check "callloop.elf iters=$n: exit status 33, \`callloop: GetCycleCounter via the ROM\`, \`callloop: PASS\` from ${call_peers[*]}"
    # counters = the value read before the loop and the last one: N iterations apart.
    meta call_insns_per_iter "$(awk -v n="$n" '{ printf "%.2f", ($2 - $1) / n }' <<<"$counters")"
}

is_vmiemu() { [[ $1 == vmiemu* ]]; }

verify_pteloop() {
    local peer first_peer='' first_sum='' sum n=${check[pteloop]}
    for peer in "${pte_peers[@]}"; do
        serial_run "$peer" pteloop "$n"
        if [ "$peer" = vmiemu-norom ] || ! is_vmiemu "$peer"; then
            has_line "$peer" "pteloop: SetPxE and InvalPage via plain stores and invlpg"
        else
            has_line "$peer" "pteloop: SetPxE and InvalPage via the ROM"
        fi
        has_line "$peer" "pteloop: $n iterations" "pteloop: PASS"
        sum=$(sed -n 's/^pteloop: checksum \(0x[0-9a-f]*\)$/\1/p' "$tmp/serial.txt")
        [ -n "$sum" ] || die "$peer: no 'pteloop: checksum' line"
        if [ -z "$first_peer" ]; then
            first_peer=$peer first_sum=$sum
        elif [ "$sum" != "$first_sum" ]; then
            die "pteloop checksum mismatch at iters=$n: $first_peer $first_sum, $peer $sum"
        fi
    done
    meta check "pteloop.elf iters=$n: \`pteloop: PASS\` (every read through the page mapped at 0x40000000 saw the page that had just been mapped) and checksum $first_sum from all of ${pte_peers[*]}; SetPxE/InvalPage went to the ROM on vmiemu, to plain stores and invlpg on the others"
}

# verify_irq spin|halt
verify_irq() {
    local phase=$1 bench=irq$1 peer got n line
    n=${check[irq$1]}
    for peer in "${irq_peers[@]}"; do
        serial_run "$peer" "$bench" "$n"
        has_line "$peer" "irqloop: $n interrupts per phase" "irqloop: PASS"
        got=$(sed -n "s/^irqloop: $phase: \([0-9]*\) interrupts.*/\1/p" "$tmp/serial.txt")
        [ -n "$got" ] && [ "$got" -ge "$n" ] \
            || die "$peer: irqloop $phase: no line with >= $n interrupts: $(serial_text)"
        if [ "$peer" = vmiemu ]; then
            grep -q "^irqloop: alarms by the ROM" "$tmp/serial.txt" \
                || die "$peer: irqloop did not use VMI alarms: $(serial_text)"
            [ "$got" -eq "$n" ] || die "$peer: irqloop $phase: $got interrupts, expected exactly $n"
        fi
        line=$(grep "^irqloop: $phase: " "$tmp/serial.txt")
        if [ "$peer" != vmiemu ]; then
            meta check "irqloop.elf \`$(bench_args "$bench" "$peer" "$n")\` on $peer: $(grep '^irqloop: alarms by' "$tmp/serial.txt" | sed 's/^irqloop: //'); ${line#irqloop: }"
        else
            meta check "irqloop.elf \`$(bench_args "$bench" "$peer" "$n")\` on vmiemu: ${line#irqloop: }"
        fi
    done
}

# profile BENCH: vmiemu --log at small and 2 x small; per-iteration instructions and events
# (bench/logstats.py) into meta `profile_BENCH`; dies if an expected count is off.
profile() {
    local bench=$1 n1=${small[$1]} n2 stats
    n2=$((2 * n1))
    serial_run vmiemu-log "$bench" "$n1"
    mv "$tmp/events.jsonl" "$tmp/events1.jsonl"
    serial_run vmiemu-log "$bench" "$n2"
    stats=$(python3 bench/logstats.py "$n1" "$tmp/events1.jsonl" "$n2" "$tmp/events.jsonl") \
        || die "bench/logstats.py failed on the $bench logs"
    rm -f "$tmp/events1.jsonl"
    per() { awk -F'\t' -v k="$1" '$1 == "event" && $2 == k { print $3 }' <<<"$stats"; }
    case $bench in
        pteloop)
            [ "$(per 'vmi SetPxE')" = 2.00 ] && [ "$(per 'vmi InvalPage')" = 2.00 ] \
                || die "pteloop: expected 2 SetPxE and 2 InvalPage events per iteration in the log: $(tr '\n\t' '| ' <<<"$stats")" ;;
        irqspin|irqhalt)
            [ "$(per 'exception 32')" = 1.00 ] \
                || die "$bench: expected 1 external interrupt (exception 32) per iteration in the log: $(tr '\n\t' '| ' <<<"$stats")" ;;
    esac
    meta "profile_$bench" "$n1 $n2 $(awk -F'\t' '{ printf "%s%s", sep, ($1 == "insns" ? "insns=" $2 : $2 "=" $3); sep = ";" }' <<<"$stats")"
}

# Whole runs of test kernel KERNEL on the peers in whole_try[KERNEL] (a space-separated list):
# every peer must pass, except vmiemu --no-rom (noted and left out of the timings if it fails);
# whole_peers[KERNEL] gets the ones that passed.
# vmiemu's instruction count comes from an untimed --log run (its end event).
verify_whole() {
    local kernel=$1 peer icount keep=() peers stats
    read -ra peers <<<"${whole_try[$kernel]}"
    whole_peers[$kernel]=""
    [ "${#peers[@]}" -gt 0 ] || return 0
    for peer in "${peers[@]}"; do
        serial_cmd "$peer" "$kernel" 0
        if ! try_cmd; then
            [ "$peer" = vmiemu-norom ] || exit 1
            local fails
            fails=$(grep -s ': FAIL' "$tmp/serial.txt" | head -n 3 | sed 's/$/; /' | tr -d '\n' || true)
            meta check "$kernel.elf on vmiemu \`--no-rom\`: FAILED (exit status $failed_rc${fails:+; ${fails%; }}): left out of the timings"
            continue
        fi
        has_line "$peer" "$kernel: PASS"
        keep+=("$peer")
        if is_vmiemu "$peer"; then
            vmiemu_extra=(--log "$tmp/events.jsonl")
            serial_cmd "$peer" "$kernel" 0
            vmiemu_extra=()
            run_cmd
            icount=$(tail -n 1 "$tmp/events.jsonl" | sed -n 's/.*"icount":\([0-9]*\).*"kind":"end".*/\1/p')
            [ -n "$icount" ] || die "$peer: $kernel.elf: no end event with an icount in the --log file"
            meta "insns_${kernel}_$peer" "$icount"
            stats=$(python3 bench/logstats.py "$tmp/events.jsonl") \
                || die "bench/logstats.py failed on the $kernel.elf log"
            meta "events_${kernel}_$peer" "$(awk -F'\t' '$1 == "event" { n++; total += $3; if (n <= 4) { printf "%s%s=%s", sep, $2, $3; sep = ";" } } END { printf "%stotal=%d", sep, total }' <<<"$stats")"
        fi
    done
    local args
    args=$(bench_args "$kernel" x 0)
    if [ "${#keep[@]}" -gt 0 ]; then
        meta check "$kernel.elf ${args:+\`$args\` }(no iteration count: one whole run): exit status 33 and \`$kernel: PASS\` from ${keep[*]}"
    fi
    whole_peers[$kernel]="${keep[*]}"
}

# The big count of benchmark BENCH for PEER.
big_of() { echo "${big[$1:$2]:-${big[$1]}}"; }

# timed_run BENCH PEER ITERS REP: one timed run, appended to results.tsv (ITERS 0: a whole
# run of a test kernel with its own command line).
timed_run() {
    local bench=$1 peer=$2 iters=$3 rep=$4 t0 t1
    rm -f "$tmp/events.jsonl" "$tmp/replay.bin" "$tmp/serial.txt"
    peer_cmd "$peer" "$(bench_kernel "$bench")" "$(bench_args "$bench" "$peer" "$iters")" none
    t0=$(now)
    run_cmd
    t1=$(now)
    printf '%s\t%s\t%s\t%s\t%s\n' "$bench" "$peer" "$iters" "$rep" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')" >>"$tmp/results.tsv"
    if [ "$peer" = vmiemu-log ]; then
        log_size[$iters]=$(stat -c %s "$tmp/events.jsonl")
    fi
}

# rate_reps BENCH PEER...: the small and the big count of every peer, one repetition.
rate_reps() {
    local bench=$1 peer n
    shift
    for peer in "$@"; do
        for n in "${small[$bench]}" "$(big_of "$bench" "$peer")"; do
            timed_run "$bench" "$peer" "$n" "$rep"
        done
    done
}

run_reps() {
    local peer kernel
    declare -gA log_size=()
    for ((rep = 1; rep <= reps; rep++)); do
        note "repetition $rep/$reps"
        rate_reps loop "${loop_peers[@]}"
        rate_reps callloop "${call_peers[@]}"
        rate_reps pteloop "${pte_peers[@]}"
        rate_reps irqspin "${irq_peers[@]}"
        rate_reps irqhalt "${irq_peers[@]}"
        for kernel in paging timer; do
            for peer in ${whole_peers[$kernel]}; do
                timed_run "$kernel" "$peer" 0 "$rep"
            done
        done
    done
    local s=${small[callloop]} b=${big[callloop]}
    meta log_bytes_per_call "$(awk -v a="${log_size[$s]}" -v b="${log_size[$b]}" \
        -v n="$((b - s))" 'BEGIN { printf "%.1f", (b - a) / n }')"
}

record_machine() {
    local cpu mem unicorn
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    unicorn=$("$root/build/venv/bin/python" -c 'import unicorn; print(unicorn.__version__)' 2>/dev/null \
              || echo "unknown")
    meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
    meta invocation "$invocation"
    meta quick "$quick"
    meta reps "$reps"
    meta timeout "$run_timeout"
    meta loop_small "${small[loop]}"
    meta loop_big "${big[loop]}"
    meta loop_big_tcg "$(big_of loop qemu-tcg)"
    meta call_small "${small[callloop]}"
    meta call_big "${big[callloop]}"
    meta tcg_pit "$tcg_pit"
    meta timer_args "$timer_args"
    meta machine "$(nproc) CPUs (\`nproc\`), ${cpu:-unknown CPU}, $mem RAM, Linux $(uname -r)"
    meta load_before "$(cut -d' ' -f1-3 /proc/loadavg)"
    meta version "$("$vmiemu" --version | head -n 1)"
    meta version "$(qemu-system-i386 --version | head -n 1)"
    meta version "unicorn $unicorn (PyPI wheel in build/venv, linked statically)"
    meta version "$(cc --version | head -n 1) (vmiemu and bench/ucloop.c), CMAKE_BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_rel/CMakeCache.txt"); $(gcc --version | head -n 1) (kernels)"
}

record_commands() {
    local line=${ucloop_build[*]//$tmp/\$TMP}
    meta command "# bench/ucloop, built once: ${line//$root\//}"
    meta command "# pteloop.elf and irqloop.elf, built first: make -s -f bench/kernels.mk OUT=$build_rel/bench -j2"
    command_lines loop "${loop_peers[@]}"
    command_lines callloop "${call_peers[@]}"
    command_lines pteloop "${pte_peers[@]}"
    command_lines irqspin "${irq_peers[@]}"
    command_lines irqhalt "${irq_peers[@]}"
    # shellcheck disable=SC2086 # peer lists: words without spaces
    command_lines paging ${whole_peers[paging]}
    # shellcheck disable=SC2086
    command_lines timer ${whole_peers[timer]}
}

command_lines() {
    local bench=$1 peer args
    shift
    for peer in "$@"; do
        args=$(bench_args "$bench" "$peer" N)
        peer_cmd "$peer" "$(bench_kernel "$bench")" "$args" none
        meta command "${cmd[*]//$tmp/\$TMP}"
    done
}

main() {
    parse_args "$@"
    cd "$root"
    build
    build_kernels
    check_tools
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmiemu-bench.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    snapshot
    build_ucloop
    : >"$tmp/results.tsv"
    : >"$tmp/meta.tsv"
    local nosnap=()
    # Snapshots (on by default since they came in) cost time: measure vmiemu without them too.
    if "$vmiemu" --help 2>&1 | grep -q -- --snap-every; then nosnap=(vmiemu-nosnap); fi
    loop_peers=(vmiemu "${nosnap[@]}" vmiemu-norom qemu-tcg qemu-icount qemu-rr unicorn unicorn-hook)
    call_peers=(vmiemu vmiemu-log)
    if [ "$quick" = 1 ]; then # the slow starters (native TSC calibration) stay out
        pte_peers=(vmiemu qemu-tcg)
        irq_peers=(vmiemu qemu-tcg)
        whole_try[paging]="vmiemu qemu-tcg"
        # timer.elf takes ~4 s on vmiemu, and natively checks its tick spacing within 25 %,
        # which real-time QEMU TCG can miss on a loaded machine at shorter periods: not here
        whole_try[timer]=""
    else
        pte_peers=(vmiemu "${nosnap[@]}" vmiemu-norom qemu-tcg qemu-icount)
        irq_peers=(vmiemu vmiemu-norom qemu-tcg qemu-icount-nosleep)
        whole_try[paging]="vmiemu vmiemu-norom qemu-tcg qemu-icount qemu-icount-nosleep"
        whole_try[timer]=${whole_try[paging]}
    fi
    record_machine
    set_checks
    meta peers_loop "${loop_peers[*]}"
    meta peers_pteloop "${pte_peers[*]}"
    meta peers_irq "${irq_peers[*]}"

    note "checking every command's serial output (untimed)"
    verify_loop
    verify_call
    verify_pteloop
    verify_irq spin
    verify_irq halt
    profile pteloop
    profile irqspin
    profile irqhalt
    verify_whole paging
    verify_whole timer
    meta peers_paging "${whole_peers[paging]}"
    meta peers_timer "${whole_peers[timer]}"
    record_commands
    run_reps
    meta load_after "$(cut -d' ' -f1-3 /proc/loadavg)"

    if [ "$quick" = 1 ]; then
        python3 bench/report.py "$tmp/results.tsv" "$tmp/meta.tsv"
    else
        python3 bench/report.py "$tmp/results.tsv" "$tmp/meta.tsv" --doc "$doc"
        note "wrote the results into $doc"
    fi
}

main "$@"
