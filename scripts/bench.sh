#!/usr/bin/env bash
# Benchmarks vmiemu against QEMU on the test kernels and prints a Markdown report.
#
#   scripts/bench.sh [--quick] [--reps N] [--no-build]
#
# Builds the Release tree (scripts/setup.sh + cmake --build into build/release), then times
#   - guest MIPS on loop.elf: vmiemu, vmiemu --no-rom, QEMU TCG, QEMU -icount shift=0 and
#     QEMU -icount shift=0,rr=record; and the same loop on bare Unicorn (bench/ucloop.c)
#     with no hook and with an empty block hook, to show what Unicorn and the hook cost;
#   - VMI GetCycleCounter calls per second on callloop.elf: vmiemu, and vmiemu --log FILE.
# Each peer runs at a small and a big iteration count; rates come from the difference, so
# start-up cost cancels out. Medians over --reps repetitions (default 5). Without --quick the
# report also replaces the generated block of docs/BENCHMARKS.md.
# --quick: tiny iteration counts, 1 repetition, docs untouched (a smoke test: exit status 0
# iff everything built, ran and passed). --no-build: use the existing build/release as is.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "$0")/.." && pwd)
build_rel=build/release
vmiemu=$build_rel/vmiemu   # until snapshot() points these at copies
kdir=$build_rel/testkernels
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
    if [ "$quick" = 1 ]; then
        reps=${reps:-1}
        loop_small=1000 loop_big=200000 loop_big_tcg=200000
        call_small=100 call_big=2000
        run_timeout=60
    else
        reps=${reps:-5}
        # About 2 s per big vmiemu run on a 2-core EPYC VM (vmiemu: ~600 MIPS, ~1 M calls/s),
        # about 2.5 minutes in all. Plain QEMU TCG is ~5x faster on the loop: it gets a bigger
        # count, so that its t(big) - t(small) is also ~2 s and not swamped by noise.
        loop_small=1000 loop_big=200000000 loop_big_tcg=1200000000
        call_small=1000 call_big=1500000
        run_timeout=600
    fi
}

build() {
    [ "$do_build" = 1 ] || { note "skipping the build (--no-build)"; return; }
    note "building $build_rel (Release)"
    "$root/scripts/setup.sh" "$build_rel" -DCMAKE_BUILD_TYPE=Release >&2 \
        || die "scripts/setup.sh failed"
    cmake --build "$build_rel" -j2 >&2 || die "the build failed"
}

check_tools() {
    command -v qemu-system-i386 >/dev/null \
        || die "qemu-system-i386 not found: install qemu-system-x86 (sudo apt-get install qemu-system-x86)"
    command -v python3 >/dev/null || die "python3 not found: install python3"
    command -v timeout >/dev/null || die "timeout not found: install coreutils"
    [ -x "$vmiemu" ] || die "$vmiemu is missing: the build did not produce it"
    local k
    for k in loop callloop; do
        [ -f "$kdir/$k.elf" ] || die "$kdir/$k.elf is missing: the testkernels target did not build"
    done
}

# Runs a copy of the binary and kernels taken right after the build, so that someone
# rebuilding build/release meanwhile cannot swap them (or make them vanish) mid-run.
snapshot() {
    cp "$vmiemu" "$tmp/vmiemu"
    cp "$kdir/loop.elf" "$kdir/callloop.elf" "$tmp/"
    vmiemu=$tmp/vmiemu
    kdir=$tmp
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

# peer_cmd PEER KERNEL ITERS SERIAL: sets the array `cmd` (SERIAL: none or file:PATH) and
# `expect`, its exit status on success.
peer_cmd() {
    local peer=$1 kernel=$kdir/$2.elf iters=$3 serial=$4
    local exitdev=isa-debug-exit,iobase=0xf4,iosize=0x04
    local qemu=(qemu-system-i386 -kernel "$kernel" -append "iters=$iters" -display none
                -monitor none -serial "$serial" -device "$exitdev")
    expect=$pass_status
    case $peer in
        vmiemu)       cmd=("$vmiemu" --serial "$serial" --append "iters=$iters" "$kernel") ;;
        vmiemu-norom) cmd=("$vmiemu" --no-rom --serial "$serial" --append "iters=$iters" "$kernel") ;;
        vmiemu-log)   cmd=("$vmiemu" --serial "$serial" --log "$tmp/events.jsonl"
                           --append "iters=$iters" "$kernel") ;;
        qemu-tcg)     cmd=("${qemu[@]}") ;;
        qemu-icount)  cmd=("${qemu[@]}" -icount shift=0) ;;
        qemu-rr)      cmd=("${qemu[@]}" -icount "shift=0,rr=record,rrfile=$tmp/replay.bin") ;;
        unicorn)      cmd=("$tmp/ucloop" none "$iters") expect=0 ;;
        unicorn-hook) cmd=("$tmp/ucloop" block "$iters") expect=0 ;;
        *) die "internal: unknown peer $peer" ;;
    esac
}

# run_cmd: runs `cmd` under timeout, stdout/stderr to files; dies unless it exits with $expect.
run_cmd() {
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
    } >&2
    exit 1
}

# Untimed run at the big count with the serial port captured; checks what the kernel prints.
serial_run() {
    local peer=$1 kernel=$2 iters=$3
    rm -f "$tmp/serial.txt"
    peer_cmd "$peer" "$kernel" "$iters" "file:$tmp/serial.txt"
    run_cmd
    case $peer in unicorn*) cp "$tmp/stdout" "$tmp/serial.txt" ;; esac
    [ -s "$tmp/serial.txt" ] || die "$peer printed nothing on the serial port: ${cmd[*]}"
}

verify_loop() {
    local peer first_peer='' first_sum='' sum
    for peer in "${loop_peers[@]}"; do
        serial_run "$peer" loop "$loop_big"
        case $peer in
            unicorn) ;;
            unicorn-hook)
                grep -qx "ucloop: $loop_big blocks" "$tmp/serial.txt" \
                    || die "$peer: expected 'ucloop: $loop_big blocks': $(tr '\n' '|' <"$tmp/serial.txt")"
                meta check "bare Unicorn with the block hook, iters=$loop_big: the hook ran $loop_big times, once per iteration: the loop is one translated block of 6 instructions" ;;
            *)
                grep -qx "loop: $loop_big iterations" "$tmp/serial.txt" \
                    || die "$peer: no 'loop: $loop_big iterations' line; serial output: $(tr '\n' '|' <"$tmp/serial.txt")" ;;
        esac
        sum=$(sed -n 's/^u\{0,1\}c\{0,1\}loop: checksum \(0x[0-9a-fA-F]*\)$/\1/p' "$tmp/serial.txt")
        [ -n "$sum" ] || die "$peer: no 'loop: checksum' line in its output"
        if [ -z "$first_peer" ]; then
            first_peer=$peer first_sum=$sum
        elif [ "$sum" != "$first_sum" ]; then
            die "loop checksum mismatch at iters=$loop_big: $first_peer $first_sum, $peer $sum"
        fi
    done
    meta check "loop iters=$loop_big: a passing exit status and checksum $first_sum from all of ${loop_peers[*]}"
}

verify_call() {
    local peer counters events
    for peer in "${call_peers[@]}"; do
        rm -f "$tmp/events.jsonl"
        serial_run "$peer" callloop "$call_big"
        grep -qx "callloop: GetCycleCounter via the ROM" "$tmp/serial.txt" \
            || die "$peer: callloop did not use the VMI ROM: $(tr '\n' '|' <"$tmp/serial.txt")"
        { grep -qx "callloop: $call_big calls" "$tmp/serial.txt" \
            && grep -qx "callloop: PASS" "$tmp/serial.txt"; } \
            || die "$peer: callloop did not report $call_big calls and PASS: $(tr '\n' '|' <"$tmp/serial.txt")"
        counters=$(sed -n 's/^callloop: counter \([0-9]*\) -> \([0-9]*\)$/\1 \2/p' "$tmp/serial.txt")
        [ -n "$counters" ] || die "$peer: no 'callloop: counter A -> B' line"
        if [ "$peer" = vmiemu-log ]; then
            # callloop reads the counter once before its loop: N + 1 calls in all.
            events=$(grep -c '"kind":"vmi","call":"GetCycleCounter"' "$tmp/events.jsonl" || true)
            [ "$events" -eq "$((call_big + 1))" ] \
                || die "vmiemu --log: $events GetCycleCounter events in the log, expected $((call_big + 1))"
            tail -n 1 "$tmp/events.jsonl" | grep -q '"kind":"end"' \
                || die "vmiemu --log: the log does not end with an \"end\" event"
            meta check "callloop.elf iters=$call_big with \`--log\`: $events GetCycleCounter events (N + 1: one read before the loop) and a final \"end\" event in the log"
        fi
    done
    meta check "callloop.elf iters=$call_big: exit status 33, \`callloop: GetCycleCounter via the ROM\`, \`callloop: PASS\` from ${call_peers[*]}"
    # counters = the value read before the loop and the last one: N iterations apart.
    meta call_insns_per_iter "$(awk -v n="$call_big" '{ printf "%.2f", ($2 - $1) / n }' <<<"$counters")"
}

# The big loop count of a peer (the checks all use loop_big, so checksums are comparable).
loop_big_of() {
    if [ "$1" = qemu-tcg ]; then echo "$loop_big_tcg"; else echo "$loop_big"; fi
}

# timed_run BENCH PEER KERNEL ITERS REP: one timed run, appended to results.tsv.
timed_run() {
    local bench=$1 peer=$2 kernel=$3 iters=$4 rep=$5 t0 t1
    rm -f "$tmp/events.jsonl" "$tmp/replay.bin"
    peer_cmd "$peer" "$kernel" "$iters" none
    t0=$(now)
    run_cmd
    t1=$(now)
    printf '%s\t%s\t%s\t%s\t%s\n' "$bench" "$peer" "$iters" "$rep" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')" >>"$tmp/results.tsv"
    if [ "$peer" = vmiemu-log ]; then
        log_size[$iters]=$(stat -c %s "$tmp/events.jsonl")
    fi
}

run_reps() {
    local rep peer n
    declare -gA log_size=()
    for ((rep = 1; rep <= reps; rep++)); do
        note "repetition $rep/$reps"
        for peer in "${loop_peers[@]}"; do
            for n in "$loop_small" "$(loop_big_of "$peer")"; do
                timed_run loop "$peer" loop "$n" "$rep"
            done
        done
        for peer in "${call_peers[@]}"; do
            for n in "$call_small" "$call_big"; do
                timed_run callloop "$peer" callloop "$n" "$rep"
            done
        done
    done
    meta log_bytes_per_call "$(awk -v a="${log_size[$call_small]}" -v b="${log_size[$call_big]}" \
        -v n="$((call_big - call_small))" 'BEGIN { printf "%.1f", (b - a) / n }')"
}

record_setup() {
    local peer cpu mem unicorn
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    unicorn=$("$root/build/venv/bin/python" -c 'import unicorn; print(unicorn.__version__)' 2>/dev/null \
              || echo "unknown")
    meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
    meta invocation "$invocation"
    meta quick "$quick"
    meta reps "$reps"
    meta timeout "$run_timeout"
    meta loop_small "$loop_small"
    meta loop_big "$loop_big"
    meta loop_big_tcg "$loop_big_tcg"
    meta call_small "$call_small"
    meta call_big "$call_big"
    meta machine "$(nproc) CPUs (\`nproc\`), ${cpu:-unknown CPU}, $mem RAM, Linux $(uname -r)"
    meta load_before "$(cut -d' ' -f1-3 /proc/loadavg)"
    meta version "$("$vmiemu" --version | head -n 1)"
    meta version "$(qemu-system-i386 --version | head -n 1)"
    meta version "unicorn $unicorn (PyPI wheel in build/venv, linked statically)"
    meta version "$(cc --version | head -n 1) (vmiemu and bench/ucloop.c), CMAKE_BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_rel/CMakeCache.txt")"
    local line=${ucloop_build[*]//$tmp/\$TMP}
    meta command "# bench/ucloop, built once: ${line//$root\//}"
    for peer in "${loop_peers[@]}"; do
        peer_cmd "$peer" loop N none
        meta command "${cmd[*]//$tmp/\$TMP}"
    done
    for peer in "${call_peers[@]}"; do
        peer_cmd "$peer" callloop N none
        meta command "${cmd[*]//$tmp/\$TMP}"
    done
}

main() {
    parse_args "$@"
    cd "$root"
    build
    check_tools
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmiemu-bench.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    snapshot
    build_ucloop
    : >"$tmp/results.tsv"
    : >"$tmp/meta.tsv"
    loop_peers=(vmiemu vmiemu-norom qemu-tcg qemu-icount qemu-rr unicorn unicorn-hook)
    call_peers=(vmiemu vmiemu-log)

    record_setup
    note "checking every command's serial output (untimed)"
    verify_loop
    verify_call
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
