#!/usr/bin/env bash
# Benchmarks vmiemu against QEMU and Bochs on a set of workload kernels; prints a Markdown report.
#
#   scripts/bench.sh [--quick] [--reps N] [--no-build] [--raw DIR] [--linux-only]
#
# Builds the Release tree (scripts/setup.sh + cmake --build into build/release) and the
# benchmark kernels (bench/kernels.mk into build/release/bench). Workloads (kernel, `iters=N`):
#   loop       testkernels/loop.elf       ALU loop, 6 instructions per iteration
#   callloop   testkernels/callloop.elf   one VMI GetCycleCounter call per iteration
#   pteloop    bench/kernels/pteloop.c    SetPxE + InvalPage churn, 4 VMI calls per iteration
#   irqloop    bench/kernels/irqloop.c    `spin`: periodic alarm every 1676 cycles, busy loop
#   memstream  bench/kernels/memstream.c  memory streaming
#   mixed      bench/kernels/mixed.c      a kernel-like mix
#   linux      the Linux 2.6.32 VMI guest of $VMIEMU_GUESTS (default /work/shared/guests):
#              wall time to its serial line VMI-LINUX-OK (bench/linuxboot.py), skipped when
#              the guest folder is absent
# Peers on every workload: vmiemu --record FILE (the default configuration: recording on, event
# log in memory), vmiemu --no-rom (the native code path), QEMU TCG, QEMU -icount shift=0, QEMU
# -icount shift=0,rr=record,rrfile=FILE and Bochs 2.7 (bench/bochs-run.sh: a GRUB ISO).
# Extra rows: vmiemu without --record (all), --snap-every 0 (loop, pteloop), --log FILE
# (callloop), bare Unicorn (bench/ucloop.c: loop; callloop: a call trapped by the block hook,
# the floor of any hook-built hypercall), and interrupts with Halt between ticks
# (irqloop halt: vmiemu, vmiemu --no-rom, QEMU -icount shift=0,sleep=off). Then build/release/timetravel_bench
# (snapshots, reverse-stepi and goto at 10^9 instructions, recording overhead).
# Each rate comes from a small and a big iteration count, so start-up cost cancels out; the big
# count is calibrated per peer so that t(big) - t(small) is about 2 s. Medians over --reps
# repetitions (default 5). Before timing, one untimed run per peer checks the serial output
# (checksums must agree across peers) and vmiemu --log runs count the guest instructions.
# Without --quick the report replaces the generated block of docs/BENCHMARKS.md and the chart
# docs/benchmarks.png is drawn (gnuplot).
# --quick: tiny fixed counts, 1 repetition, every workload and peer, docs untouched (a smoke
# test: exit status 0 iff everything built, ran and passed; the chart goes to a temporary
# folder if gnuplot is installed; the workloads run two at a time). --no-build: use the
# existing build/release as is (the benchmark kernels are still brought up to date: make,
# incremental). --raw DIR: also keep the raw tables (results.tsv, sizes.tsv, meta.tsv) in DIR,
# to run bench/report.py on again.
# linux: vmiemu --record (ROM and --no-rom; without --record where this build cannot record a
# run with --initrd), vmiemu without --record, QEMU TCG, -icount shift=0 and shift=0,rr=record,
# each booting once per repetition (at most 3), medians; one vmiemu --log boot counts the VMI
# calls by kind. Its report replaces the `linux` block of docs/BENCHMARKS.md. --quick: one
# vmiemu boot, checked for VMI-LINUX-OK. --linux-only: only the linux workload.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "$0")/.." && pwd)
build_rel=build/release
vmiemu=$build_rel/vmiemu   # until snapshot() points these at copies
ttbench=$build_rel/timetravel_bench
kdir=$build_rel/testkernels
bdir=$build_rel/bench      # bench/kernels.mk output
bochs_run=bench/bochs-run.sh
doc=docs/BENCHMARKS.md
chart=docs/benchmarks.png
pass_status=33   # isa-debug-exit TEST_PASS; bench/ucloop exits 0
# Bochs' emulated clock: bochs-run.sh's default of 10^8 instructions per emulated second,
# given explicitly. Timer periods given in cycles (irqloop) are instructions at any rate;
# mixed's tick, given in microseconds, is scaled so that it is 100,000 instructions as on
# vmiemu (1 instruction = 1 ns) and QEMU -icount shift=0.
bochs_ips=100000000
bochs_mixed_tick_us=1000
target=2.0       # seconds of t(big) - t(small) per peer (full mode)
max_iters=4000000000  # iters= is a 32-bit count

quick=0
reps=
linux_only=0
guests=${VMIEMU_GUESTS:-/work/shared/guests}
linux_dir=$guests/vmilinux-2.6.32
do_build=1
raw=
invocation="scripts/bench.sh${*:+ $*}"

die() {
    echo "bench: error: $*" >&2
    exit 1
}

note() { echo "bench: $*" >&2; }

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

# Per workload W: small[W] the small count; check[W] the count of the untimed run that checks
# every peer's output (the same for all, so checksums are comparable); peers[W] its peers, main
# ones first. big[W:P] is peer P's big count (calibrated, or check[W] with --quick).
declare -A small=() check=() peers=() big=() t_check=()
workloads=()
main_peers=(vmiemu vmiemu-norom qemu-tcg qemu-icount qemu-rr bochs)

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
            --linux-only) linux_only=1 ;;
            --raw)
                [ $# -ge 2 ] || die "--raw needs a folder"
                raw=$(realpath -m -- "$2")  # before main's cd
                shift ;;
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
    if [ "$quick" = 1 ]; then
        reps=${reps:-1}
        small=([loop]=100 [callloop]=100 [pteloop]=100 [irqloop]=100 [irqhalt]=100
               [memstream]=1 [mixed]=10)
        check=([loop]=2000000 [callloop]=5000 [pteloop]=2000 [irqloop]=1000 [irqhalt]=1000
               [memstream]=3 [mixed]=300)
        run_timeout=120
        tt_insns=10000000
    else
        reps=${reps:-5}
        small=([loop]=1000 [callloop]=1000 [pteloop]=1000 [irqloop]=1000 [irqhalt]=1000
               [memstream]=2 [mixed]=100)
        check=([loop]=20000000 [callloop]=100000 [pteloop]=20000 [irqloop]=10000
               [irqhalt]=10000 [memstream]=20 [mixed]=2000)
        run_timeout=600
        tt_insns=1000000000
    fi
}

# The workloads this tree has (memstream and mixed once bench/kernels/ has them) and their peers.
set_workloads() {
    local w
    workloads=(loop callloop pteloop irqloop)
    for w in memstream mixed; do
        if [ -f "bench/kernels/$w.c" ] && grep -qE "^KERNELS :=.* $w( |\$)" bench/kernels.mk; then
            workloads+=("$w")
        else
            note "bench/kernels/$w.c is not in bench/kernels.mk yet: no $w workload"
        fi
    done
    for w in "${workloads[@]}"; do peers[$w]="${main_peers[*]} vmiemu-norec"; done
    peers[loop]+=" vmiemu-nosnap unicorn unicorn-hook"
    peers[callloop]+=" vmiemu-log unicorn-call"
    peers[pteloop]+=" vmiemu-nosnap"
    # Interrupts with Halt between ticks: a per-event figure, not a workload of the table.
    peers[irqhalt]="vmiemu vmiemu-norom qemu-icount-nosleep"
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
    command -v bochs >/dev/null \
        || die "bochs not found: install the Debian packages bochs, bochsbios and vgabios (scripts/deps.sh; sudo apt-get install bochs bochsbios vgabios)"
    [ -x "$bochs_run" ] || die "$bochs_run is missing or not executable"
    if [ "$quick" = 0 ] && ! command -v gnuplot >/dev/null; then
        die "gnuplot not found (the chart $chart): install gnuplot-nox (sudo apt-get install gnuplot-nox)"
    fi
    command -v python3 >/dev/null || die "python3 not found: install python3"
    command -v timeout >/dev/null || die "timeout not found: install coreutils"
    [ -x "$vmiemu" ] || die "$vmiemu is missing: the build did not produce it"
    [ -x "$ttbench" ] || die "$ttbench is missing: the build did not produce it"
    local w
    for w in "${workloads[@]}"; do
        [ -f "$(kernel_path "$w")" ] || die "$(kernel_path "$w") is missing: it did not build"
    done
}

kernel_of() {
    case $1 in
        irqhalt) echo irqloop ;;
        *) echo "$1" ;;
    esac
}

kernel_path() {
    local k
    k=$(kernel_of "$1")
    case $k in
        loop|callloop) echo "$kdir/$k.elf" ;;
        *) echo "$bdir/$k.elf" ;;
    esac
}

# Runs copies of the binaries and kernels taken right after the build, so that someone
# rebuilding build/release meanwhile cannot swap them (or make them vanish) mid-run.
snapshot() {
    local w
    mkdir "$tmp/bin"
    cp "$vmiemu" "$ttbench" "$tmp/bin/"
    for w in "${workloads[@]}"; do cp "$(kernel_path "$w")" "$tmp/bin/"; done
    vmiemu=$tmp/bin/vmiemu
    ttbench=$tmp/bin/timetravel_bench
    kdir=$tmp/bin
    bdir=$tmp/bin
}

# bench/ucloop.c against the libunicorn.a vmiemu links (the wheel in build/venv).
build_ucloop() {
    unicorn_dir=$("$root/build/venv/bin/python" -c \
        'import os, unicorn; print(os.path.dirname(unicorn.__file__))') \
        || die "cannot find the unicorn package in build/venv: run scripts/setup.sh"
    ucloop_build=(cc -std=c11 -O2 -Wall -Wextra -Werror -I "$unicorn_dir/include" bench/ucloop.c
                  "$unicorn_dir/lib/libunicorn.a" -lpthread -lm -o "$tmp/bin/ucloop")
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

# A - B for two such times (seconds, six decimals).
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a - b }'; }

meta() { printf '%s\t%s\n' "$1" "$2" >>"$wd/meta.tsv"; }

# The kernel command line of workload W at count N for peer P.
bench_args() {
    local w=$1 p=$2 n=$3 pit=
    [ "$p" = qemu-tcg ] && pit=" pit=$tcg_pit"
    case $w in
        irqloop) echo "iters=$n spin$pit" ;;
        irqhalt) echo "iters=$n halt$pit" ;;
        mixed) if [ "$p" = bochs ]; then echo "iters=$n tick_us=$bochs_mixed_tick_us"; else echo "iters=$n"; fi ;;
        *) echo "iters=$n" ;;
    esac
}

# peer_cmd PEER WORKLOAD ARGS SERIAL: sets the array `cmd` (SERIAL: none or file:PATH; ARGS the
# kernel command line) and `expect`, its exit status on success. The array `vmiemu_extra`
# (normally empty) goes into every vmiemu command.
vmiemu_extra=()
peer_cmd() {
    local peer=$1 kernel args=$3 serial=$4
    kernel=$(kernel_path "$2")
    local exitdev=isa-debug-exit,iobase=0xf4,iosize=0x04
    local qemu=(qemu-system-i386 -kernel "$kernel" -append "$args" -display none
                -monitor none -serial "$serial" -device "$exitdev")
    # --cpu-mhz 1000: the workloads are compared with QEMU -icount shift=0 (1 instruction = 1 ns),
    # and mixed's tick is given in microseconds; the linux rows use vmiemu's default clock.
    local v=("$vmiemu" --cpu-mhz 1000 "${vmiemu_extra[@]}") rec=(--record "$wd/run.rec") bserial=()
    [ "$serial" = none ] || bserial=(--serial "${serial#file:}")
    expect=$pass_status
    case $peer in
        vmiemu)        cmd=("${v[@]}" "${rec[@]}" --serial "$serial" --append "$args" "$kernel") ;;
        vmiemu-norec)  cmd=("${v[@]}" --serial "$serial" --append "$args" "$kernel") ;;
        vmiemu-norom)  cmd=("${v[@]}" --no-rom --serial "$serial" --append "$args" "$kernel") ;;
        vmiemu-nosnap) cmd=("${v[@]}" --snap-every 0 --serial "$serial" --append "$args" "$kernel") ;;
        vmiemu-log)    cmd=("${v[@]}" "${rec[@]}" --log "$wd/events.jsonl" --serial "$serial"
                            --append "$args" "$kernel") ;;
        qemu-tcg)      cmd=("${qemu[@]}") ;;
        qemu-icount)   cmd=("${qemu[@]}" -icount shift=0) ;;
        qemu-icount-nosleep) cmd=("${qemu[@]}" -icount "shift=0,sleep=off") ;;
        qemu-rr)       cmd=("${qemu[@]}" -icount "shift=0,rr=record,rrfile=$wd/replay.bin") ;;
        bochs)         cmd=("$bochs_run" "${bserial[@]}" --cache "$wd/bochs-cache" --ips "$bochs_ips"
                            "$kernel" "$args") ;;
        unicorn)       cmd=("$tmp/bin/ucloop" none "${args#iters=}") expect=0 ;;
        unicorn-hook)  cmd=("$tmp/bin/ucloop" block "${args#iters=}") expect=0 ;;
        unicorn-call)  cmd=("$tmp/bin/ucloop" call "${args#iters=}") expect=0 ;;
        *) die "internal: unknown peer $peer" ;;
    esac
}

is_vmiemu() { [[ $1 == vmiemu* ]]; }
uses_rom() { is_vmiemu "$1" && [ "$1" != vmiemu-norom ]; }

# try_cmd: runs `cmd` under timeout, stdout/stderr to files; returns 1 (after a report on
# stderr) unless it exits with $expect. run_cmd: the same, but exits.
try_cmd() {
    local rc=0
    timeout "$run_timeout" "${cmd[@]}" </dev/null >"$wd/stdout" 2>"$wd/stderr" || rc=$?
    [ "$rc" -eq "$expect" ] && return 0
    {
        echo "bench: FAILED: ${cmd[*]}"
        if [ "$rc" -eq 124 ]; then
            echo "bench:   timed out after ${run_timeout}s"
        else
            echo "bench:   exit status $rc, expected $expect (pass)"
        fi
        sed 's/^/bench:   stderr: /' "$wd/stderr" | tail -n 20
        sed 's/^/bench:   stdout: /' "$wd/stdout" | tail -n 10
        [ -s "$wd/serial.txt" ] && sed 's/^/bench:   serial: /' "$wd/serial.txt" | tail -n 20
    } >&2
    return 1
}

run_cmd() { try_cmd || exit 1; }

# one_run W P N CAPTURE: peer P runs workload W at count N and must pass; `secs` gets its wall
# time. CAPTURE=1: the serial output goes to $wd/serial.txt (ucloop: its stdout), else nowhere.
one_run() {
    local w=$1 p=$2 n=$3 serial=none t0 t1
    rm -f "$wd/serial.txt" "$wd/events.jsonl" "$wd/run.rec" "$wd/replay.bin"
    [ "$4" = 1 ] && serial="file:$wd/serial.txt"
    peer_cmd "$p" "$w" "$(bench_args "$w" "$p" "$n")" "$serial"
    t0=$(now)
    run_cmd
    t1=$(now)
    secs=$(minus "$t1" "$t0")
    if [ "$4" = 1 ]; then
        case $p in unicorn*) cp "$wd/stdout" "$wd/serial.txt" ;; esac
        [ -s "$wd/serial.txt" ] || die "$p printed nothing on the serial port: ${cmd[*]}"
    fi
}

# result W P N REP: appends the last run (`secs`) to results.tsv, and the sizes of the record
# and the --log file it wrote to sizes.tsv.
result() {
    printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$secs" >>"$wd/results.tsv"
    local f
    for f in run.rec events.jsonl; do
        [ -f "$wd/$f" ] && printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$f" \
            "$(stat -c %s "$wd/$f")" >>"$wd/sizes.tsv"
    done
    return 0
}

serial_text() { tr '\n' '|' <"$wd/serial.txt"; }

# has_line PEER LINE...: every LINE is a whole line of serial.txt, or die.
has_line() {
    local peer=$1 line
    shift
    for line in "$@"; do
        grep -qxF "$line" "$wd/serial.txt" \
            || die "$peer: no line '$line' in its serial output: $(serial_text)"
    done
}

# check_output W P N: the serial output of peer P on workload W at count N is a pass; prints
# the workload's checksum (empty if it has none).
check_output() {
    local w=$1 p=$2 n=$3 k got
    k=$(kernel_of "$w")
    case $w in
        loop)
            case $p in
                unicorn) ;;
                unicorn-hook) has_line "$p" "ucloop: $n blocks" ;;
                *) has_line "$p" "loop: $n iterations" ;;
            esac ;;
        callloop)
            if [ "$p" = unicorn-call ]; then
                has_line "$p" "ucloop: $n calls" "ucloop: $((3 * n)) blocks"
                return
            fi
            if uses_rom "$p"; then
                has_line "$p" "callloop: GetCycleCounter via the ROM"
            else
                has_line "$p" "callloop: GetCycleCounter via rdtsc"
            fi
            has_line "$p" "callloop: $n calls" "callloop: PASS" ;;
        pteloop)
            if uses_rom "$p"; then
                has_line "$p" "pteloop: SetPxE and InvalPage via the ROM"
            else
                has_line "$p" "pteloop: SetPxE and InvalPage via plain stores and invlpg"
            fi
            has_line "$p" "pteloop: $n iterations" "pteloop: PASS" ;;
        irqloop|irqhalt)
            local phase=${w#irq}
            [ "$phase" = loop ] && phase=spin
            has_line "$p" "irqloop: $n interrupts per phase" "irqloop: PASS"
            got=$(sed -n "s/^irqloop: $phase: \([0-9]*\) interrupts.*/\1/p" "$wd/serial.txt")
            if [ -z "$got" ] || [ "$got" -lt "$n" ]; then
                die "$p: irqloop $phase: no line with >= $n interrupts: $(serial_text)"
            fi
            if uses_rom "$p"; then
                grep -q "^irqloop: alarms by the ROM" "$wd/serial.txt" \
                    || die "$p: irqloop did not use VMI alarms: $(serial_text)"
                [ "$got" -eq "$n" ] || die "$p: irqloop $phase: $got interrupts, expected exactly $n"
            else
                grep -q "^irqloop: alarms by the PIT" "$wd/serial.txt" \
                    || die "$p: irqloop did not use the PIT: $(serial_text)"
            fi ;;
        *) has_line "$p" "$k: $n iterations" "$k: PASS" ;;
    esac
    sed -n "s/^\(u\{0,1\}c\{0,1\}$k\): checksum \(0x[0-9a-fA-F]*\)$/\2/p" "$wd/serial.txt"
}

# verify W: one untimed run per peer at check[W] (timed all the same: it starts the
# calibration), its output checked; checksums must agree across peers.
verify() {
    local w=$1 p n=${check[$1]} sum first_peer='' first_sum='' line notes=()
    for p in ${peers[$w]}; do
        # vmiemu (no recording) and --no-rom keep a --log for profile()
        case $p in vmiemu-norec|vmiemu-norom) vmiemu_extra=(--log "$wd/events.jsonl") ;; esac
        one_run "$w" "$p" "$n" 1
        vmiemu_extra=()
        [ -f "$wd/events.jsonl" ] && [ "$p" != vmiemu-log ] && mv "$wd/events.jsonl" "$wd/log-$p.jsonl"
        t_check[$w:$p]=$secs
        [ "$quick" = 1 ] && result "$w" "$p" "$n" 1
        sum=$(check_output "$w" "$p" "$n")
        if [ -n "$sum" ]; then
            if [ -z "$first_peer" ]; then
                first_peer=$p first_sum=$sum
            elif [ "$sum" != "$first_sum" ]; then
                die "$w checksum mismatch at iters=$n: $first_peer $first_sum, $p $sum"
            fi
        fi
        case $w in
            irqloop|irqhalt)
                line=$(grep -E '^irqloop: (spin|halt): ' "$wd/serial.txt" | sed 's/^irqloop: //')
                notes+=("$p: $(grep '^irqloop: alarms by' "$wd/serial.txt" | sed 's/^irqloop: //'); $line") ;;
            mixed)
                notes+=("$p: $(grep -E '^mixed: (timer:|[0-9]+ context)' "$wd/serial.txt" | sed 's/^mixed: //' | paste -sd ';' | sed 's/;/; /g')") ;;
            callloop)
                if [ "$p" = vmiemu-log ]; then
                    # callloop reads the counter once before its loop: N + 1 calls in all.
                    local events
                    events=$(grep -c '"kind":"vmi","call":"GetCycleCounter"' "$wd/events.jsonl" || true)
                    [ "$events" -eq "$((n + 1))" ] \
                        || die "vmiemu --log: $events GetCycleCounter events in the log, expected $((n + 1))"
                    tail -n 1 "$wd/events.jsonl" | grep -q '"kind":"end"' \
                        || die "vmiemu --log: the log does not end with an \"end\" event"
                    notes+=("\`--log\`: $events GetCycleCounter events (N + 1: one read before the loop) and a final \"end\" event")
                fi ;;
        esac
    done
    local what="a pass"
    [ -n "$first_sum" ] && what="a pass and checksum $first_sum"
    meta check "$w \`$(bench_args "$w" x "$n")\`: $what from every peer (${peers[$w]})"
    for line in "${notes[@]}"; do meta check "$w at N=$n, $line"; done
}

# profile W CONFIG (rom or norom): the --log of vmiemu (no recording) or vmiemu --no-rom at
# small[W] and at check[W] (the verification run's, when it had one: else a run at 2 x
# small[W]); per-iteration instructions and events (bench/logstats.py) into meta
# `profile_W_CONFIG`; dies if an expected count is off.
profile() {
    local w=$1 config=$2 n1=${small[$1]} n2=${check[$1]} stats p=vmiemu-norec
    [ "$config" = norom ] && p="vmiemu-norom"
    vmiemu_extra=(--log "$wd/events.jsonl")
    if [ ! -f "$wd/log-$p.jsonl" ]; then
        n2=$((2 * n1))
        one_run "$w" "$p" "$n2" 0
        mv "$wd/events.jsonl" "$wd/log-$p.jsonl"
    fi
    one_run "$w" "$p" "$n1" 0
    vmiemu_extra=()
    stats=$(python3 bench/logstats.py "$n1" "$wd/events.jsonl" "$n2" "$wd/log-$p.jsonl") \
        || die "bench/logstats.py failed on the $w logs"
    rm -f "$wd/events.jsonl" "$wd/log-$p.jsonl"
    per() { awk -F'\t' -v k="$1" '$1 == "event" && $2 == k { print $3 }' <<<"$stats"; }
    local bad=
    case $w:$config in
        callloop:rom) [ "$(per 'vmi GetCycleCounter')" = 1.00 ] || bad="1 GetCycleCounter call" ;;
        pteloop:rom) [ "$(per 'vmi SetPxE')" = 2.00 ] && [ "$(per 'vmi InvalPage')" = 2.00 ] \
                         || bad="2 SetPxE and 2 InvalPage calls" ;;
        irqloop:*|irqhalt:*) [ "$(per 'exception 32')" = 1.00 ] \
                                 || bad="1 external interrupt (exception 32)" ;;
    esac
    [ -z "$bad" ] || die "$w ($config): expected $bad per iteration in the log: $(tr '\n\t' '| ' <<<"$stats")"
    meta "profile_${w}_$config" "$n1 $n2 $(awk -F'\t' '{ printf "%s%s", sep, ($1 == "insns" ? "insns=" $2 : $2 "=" $3); sep = ";" }' <<<"$stats")"
}

# The count that should take about $target s more than the small count s, from a run at n that
# took d s more than it, rounded to two significant digits (mawk's %d stops at 2^31 - 1: %.0f).
big_for() {
    awk -v n="$1" -v s="$2" -v d="$3" -v tg="$target" -v m="$max_iters" 'BEGIN {
        x = d > 0.05 ? s + (n - s) * tg / d : s + (n - s) * 10; if (x > m) x = m; if (x < 10 * s) x = 10 * s
        e = 1; while (x >= 100 * e) e *= 10; printf "%.0f", int(x / e + 0.5) * e }'
}

# The big count of peer P on workload W: for about $target seconds of t(big) - t(small), from
# its small run and the verification run (and longer runs while the difference is under
# 0.8 s, too short to trust next to start-up jitter: Bochs boots in 1-2 s); then the count is
# run and corrected until its difference is within a factor of 2 of the target, since the
# verification run can be slow for other reasons (Bochs builds its GRUB ISO on its first run).
calibrate() {
    local w=$1 p=$2 n=${check[$1]} s=${small[$1]} ts t dt nb
    t=${t_check[$w:$p]}
    one_run "$w" "$p" "$s" 0
    ts=$secs
    dt=$(minus "$t" "$ts")
    for _ in 1 2 3 4 5; do
        awk -v d="$dt" 'BEGIN { exit !(d >= 0.8) }' && break
        [ "$n" -lt "$max_iters" ] || break
        n=$(awk -v n="$n" -v s="$s" -v d="$dt" -v m="$max_iters" 'BEGIN {
            f = d > 0.015 ? 1.5 / d : 100; f = f < 2 ? 2 : f > 100 ? 100 : f
            x = s + (n - s) * f; printf "%.0f", (x > m ? m : x) }')
        one_run "$w" "$p" "$n" 0
        dt=$(minus "$secs" "$ts")
    done
    nb=$(big_for "$n" "$s" "$dt")
    for _ in 1 2 3; do
        one_run "$w" "$p" "$nb" 0
        dt=$(minus "$secs" "$ts")
        awk -v d="$dt" -v tg="$target" 'BEGIN { exit !(d >= tg / 2 && d <= tg * 2) }' && break
        awk -v d="$dt" -v tg="$target" -v n="$nb" -v m="$max_iters" 'BEGIN { exit !(d < tg / 2 && n >= m) }' && break
        nb=$(big_for "$nb" "$s" "$dt")
    done
    big[$w:$p]=$nb
    note "  $w on $p: N_big $nb"
}

# rep_runs W REP: the timed runs of workload W, every peer at its small and its big count
# (--quick: the small one only, the verification run was the big one, and main peers only).
rep_runs() {
    local w=$1 p n
    for p in ${peers[$w]}; do
        # --quick: the extra rows only get their verification run
        [ "$quick" = 1 ] && [[ " ${main_peers[*]} " != *" $p "* ]] && continue
        for n in "${small[$w]}" "${big[$w:$p]}"; do
            [ "$quick" = 1 ] && [ "$n" = "${check[$w]}" ] && continue
            one_run "$w" "$p" "$n" 0
            result "$w" "$p" "$n" "$2"
        done
    done
}

# prepare W: the verification runs, the instruction counts and (full mode) the big counts of
# workload W, with its files in its own folder `wd`.
prepare() {
    local w=$1 p
    verify "$w"
    profile "$w" rom
    profile "$w" norom
    for p in ${peers[$w]}; do
        if [ "$quick" = 1 ]; then
            big[$w:$p]=${check[$w]}
        else
            calibrate "$w" "$p"
        fi
    done
    for p in ${peers[$w]}; do meta "big_${w}_$p" "${big[$w:$p]}"; done
}

# --quick: timetravel_bench and every workload's preparation and runs in the background, two
# at a time (the timings mean nothing there); a workload that fails leaves no `ok` file.
quick_jobs() {
    local w order=()
    for w in irqloop memstream; do  # the longest first
        [[ " ${all[*]} " == *" $w "* ]] && order+=("$w")
    done
    for w in "${all[@]}"; do
        [[ " ${order[*]} " == *" $w "* ]] || order+=("$w")
    done
    tt_run &
    for w in "${order[@]}"; do
        while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n || true; done
        (
            wd=$tmp/w/$w
            t0=$SECONDS
            prepare "$w"
            rep_runs "$w" 1
            : >"$wd/ok"
            note "  $w: done in $((SECONDS - t0)) s"
        ) &
    done
    wait
    for w in "${all[@]}"; do
        [ -f "$tmp/w/$w/ok" ] || die "the $w workload failed (see above)"
    done
}

full_runs() {
    local w rep
    note "checking every peer's output, counting instructions and calibrating N_big (about $target s)"
    for w in "${all[@]}"; do
        wd=$tmp/w/$w
        prepare "$w"
    done
    for ((rep = 1; rep <= reps; rep++)); do
        note "repetition $rep/$reps"
        for w in "${all[@]}"; do
            wd=$tmp/w/$w
            rep_runs "$w" "$rep"
        done
    done
    wd=$tmp
}

# timetravel_bench on loop.elf and callloop.elf: one "name value unit..." line per figure,
# into meta `tt` (tt_finish).
tt_run() {
    local rc=0
    timeout "$run_timeout" "${tt_cmd[@]}" >"$tmp/tt.txt" 2>"$tmp/tt.err" || rc=$?
    echo "$rc" >"$tmp/tt.rc"
}

tt_finish() {
    local rc line
    rc=$(cat "$tmp/tt.rc")
    [ "$rc" = 0 ] || die "timetravel_bench failed (exit status $rc): $(tr '\n' '|' <"$tmp/tt.err")"
    while IFS= read -r line; do meta tt "$line"; done <"$tmp/tt.txt"
    meta command "# time travel"
    meta command "$(quoted "${tt_cmd[@]}")"
}

# quoted ARG...: a command as a shell line, $tmp shown as $TMP, paths under the repository
# relative to it, arguments with spaces in double quotes.
quoted() {
    local a out=()
    for a; do
        a=${a//$tmp/\$TMP}
        a=${a#"$root"/}
        [[ $a =~ [[:space:]] ]] && a="\"$a\""
        out+=("$a")
    done
    echo "${out[*]}"
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
    meta target "$target"
    meta timeout "$run_timeout"
    meta tcg_pit "$tcg_pit"
    meta workloads "${workloads[*]}"
    meta main_peers "${main_peers[*]}"
    meta machine "$(nproc) CPUs (\`nproc\`), ${cpu:-unknown CPU}, $mem RAM, Linux $(uname -r)"
    meta load_before "$(cut -d' ' -f1-3 /proc/loadavg)"
    meta version "$("$vmiemu" --version | head -n 1)"
    meta version "$(qemu-system-i386 --version | head -n 1)"
    meta version "Bochs $(dpkg-query -W -f='${Version}' bochs 2>/dev/null || echo '(version unknown: not a Debian package)')"
    meta version "unicorn $unicorn (PyPI wheel in build/venv, linked statically)"
    meta version "$(cc --version | head -n 1) (vmiemu and bench/ucloop.c), CMAKE_BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_rel/CMakeCache.txt"); $(gcc --version | head -n 1) (kernels)"
    if command -v gnuplot >/dev/null; then meta version "$(gnuplot --version) (the chart)"; fi
}

record_commands() {
    local w p
    meta command "# bench/ucloop, built once: $(quoted "${ucloop_build[@]}")"
    meta command "# the bench/kernels ELFs, built first: make -s -f bench/kernels.mk OUT=$build_rel/bench -j2"
    for w in "${workloads[@]}" irqhalt; do
        meta command "# $w"
        for p in ${peers[$w]}; do
            peer_cmd "$p" "$w" "$(bench_args "$w" "$p" N)" none
            meta command "$(quoted "${cmd[@]}")"
        done
    done
}

record_counts() {
    local w
    for w in "${workloads[@]}" irqhalt; do
        meta "small_$w" "${small[$w]}"
        meta "check_$w" "${check[$w]}"
        meta "peers_$w" "${peers[$w]}"
    done
}

# The linux workload: the real Linux 2.6.32 VMI guest, timed to its serial line VMI-LINUX-OK.
# linux_cmd PEER: sets `cmd` ($tmp/linux: scratch files; the guest is read in place).
linux_peers=()
declare -A linux_label=(
    [vmiemu]='vmiemu `--record`' [vmiemu-norom]='vmiemu `--no-rom --record`'
    [vmiemu-norec]='vmiemu, no recording' [vmiemu-norom-norec]='vmiemu `--no-rom`, no recording'
    [qemu-tcg]='QEMU TCG' [qemu-icount]='QEMU `-icount shift=0`'
    [qemu-rr]='QEMU `-icount shift=0,rr=record`')
linux_cmd() {
    local ld=$tmp/linux
    local v=("$tmp/bin/vmiemu" --serial stdio --initrd "$linux_dir/initramfs.cpio.gz"
             --append console=ttyS0)
    local q=(qemu-system-i386 -m 128 -kernel "$linux_dir/bzImage"
             -initrd "$linux_dir/initramfs.cpio.gz" -append console=ttyS0 -nographic -no-reboot)
    case $1 in
        vmiemu)             cmd=("${v[@]}" --record "$ld/run.rec" "$linux_dir/bzImage") ;;
        vmiemu-norom)       cmd=("${v[@]}" --no-rom --record "$ld/run.rec" "$linux_dir/bzImage") ;;
        vmiemu-norec)       cmd=("${v[@]}" "$linux_dir/bzImage") ;;
        vmiemu-norom-norec) cmd=("${v[@]}" --no-rom "$linux_dir/bzImage") ;;
        vmiemu-log)         cmd=("${v[@]}" --log "$ld/events.jsonl" "$linux_dir/bzImage") ;;
        qemu-tcg)           cmd=("${q[@]}") ;;
        qemu-icount)        cmd=("${q[@]}" -icount shift=0) ;;
        qemu-rr)            cmd=("${q[@]}" -icount "shift=0,rr=record,rrfile=$ld/replay.bin") ;;
        *) die "internal: unknown linux peer $1" ;;
    esac
}

# linux_boot PEER REP: one timed boot, appended to $tmp/linux/times.tsv; it must print
# VMI-LINUX-OK and exit 0 (a power-off).
linux_boot() {
    local ld=$tmp/linux line
    rm -f "$ld/run.rec" "$ld/replay.bin" "$ld/events.jsonl"
    linux_cmd "$1"
    line=$(python3 bench/linuxboot.py time --timeout "$run_timeout" --out "$ld/out.txt" \
           -- "${cmd[@]}") || die "bench/linuxboot.py failed"
    local to_mark status
    to_mark=$(cut -f1 <<<"$line")
    status=$(cut -f3 <<<"$line")
    if [ "$to_mark" = - ] || [ "$status" != 0 ]; then
        sed 's/^/bench:   output: /' "$ld/out.txt" | tail -n 20 >&2
        die "linux: $1 did not reach VMI-LINUX-OK and a clean exit: ${cmd[*]} ($line)"
    fi
    printf '%s\t%s\t%s\t%s\n' "$1" "${linux_label[$1]:-$1}" "$2" "$line" >>"$ld/times.tsv"
    note "linux: $1 rep $2: $line"
}

# The vmiemu rows record when this build can record a run with --initrd (it refused to, saying
# so, before h7-rec's change); without it they run without --record and say so.
linux_setup() {
    local ld=$tmp/linux rc=0
    mkdir -p "$ld"
    : >"$ld/times.tsv"
    : >"$ld/meta.tsv"
    "$tmp/bin/vmiemu" --record "$ld/run.rec" --initrd "$linux_dir/initramfs.cpio.gz" \
        --max-insns 1000 "$linux_dir/bzImage" </dev/null >/dev/null 2>"$ld/probe.err" || rc=$?
    if grep -q 'does not store the initrd' "$ld/probe.err"; then
        note "linux: this vmiemu cannot record a run with --initrd: the vmiemu rows run without --record"
        linux_peers=(vmiemu-norec vmiemu-norom-norec qemu-tcg qemu-icount qemu-rr)
    else
        linux_peers=(vmiemu vmiemu-norom vmiemu-norec qemu-tcg qemu-icount qemu-rr)
    fi
}

linux_runs() {
    local ld=$tmp/linux p r n
    if [ ! -f "$linux_dir/bzImage" ] || [ ! -f "$linux_dir/initramfs.cpio.gz" ]; then
        note "linux: $linux_dir/bzImage or initramfs.cpio.gz is absent: no linux workload (set VMIEMU_GUESTS)"
        return 0
    fi
    [ -x "$tmp/bin/vmiemu" ] || { mkdir -p "$tmp/bin"; cp "$vmiemu" "$tmp/bin/"; }
    linux_setup
    if [ "$quick" = 1 ]; then
        linux_boot "${linux_peers[0]}" 1   # one boot, checked: a smoke test
        return 0
    fi
    n=$(( reps < 3 ? reps : 3 ))
    printf '%s\t%s\n' date "$(date -u '+%Y-%m-%d %H:%M UTC')" invocation "$invocation" \
        reps "$n" load_before "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$ld/meta.tsv"
    for ((r = 1; r <= n; r++)); do
        for p in "${linux_peers[@]}"; do linux_boot "$p" "$r"; done
    done
    printf '%s\t%s\n' load_after "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$ld/meta.tsv"
    for p in "${linux_peers[@]}" vmiemu-log; do
        linux_cmd "$p"
        local c
        c=$(quoted "${cmd[@]}")
        printf 'command\t%s\n' "${c//$linux_dir/\$G}" >>"$ld/meta.tsv"
    done
    note "linux: one vmiemu --log boot for the call counts"
    linux_boot vmiemu-log 0
    sed -i '/^vmiemu-log\t/d' "$ld/times.tsv"
    python3 bench/linuxboot.py report "$ld/times.tsv" "$ld/meta.tsv" --log "$ld/events.jsonl" \
        --doc "$doc" || die "bench/linuxboot.py report failed"
    note "wrote the linux workload into $doc"
    python3 bench/linuxboot.py report "$ld/times.tsv" "$ld/meta.tsv"
}

main() {
    parse_args "$@"
    cd "$root"
    if [ "$linux_only" = 1 ]; then
        build
        tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmiemu-bench.XXXXXX")
        trap 'rm -rf "$tmp"' EXIT
        linux_runs
        return 0
    fi
    set_workloads
    build
    build_kernels
    check_tools
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmiemu-bench.XXXXXX")
    # on the way out, stop this script's own background jobs (--quick) by their ids
    trap 'jobs -p | xargs -r kill 2>/dev/null || true; rm -rf "$tmp"' EXIT
    wd=$tmp   # the folder of the run files and result tables (per workload: $tmp/w/NAME)
    all=("${workloads[@]}" irqhalt)
    local w
    for w in "${all[@]}"; do mkdir -p "$tmp/w/$w"; done
    snapshot
    build_ucloop
    record_machine
    record_counts
    record_commands
    tt_cmd=("$ttbench" "$kdir" "$tt_insns")
    if [ "$quick" = 1 ]; then
        quick_jobs
    else
        full_runs
        note "timetravel_bench at $tt_insns instructions"
        tt_run
    fi
    tt_finish
    linux_runs
    meta load_after "$(cut -d' ' -f1-3 /proc/loadavg)"

    local tables=(results sizes meta) t
    for t in "${tables[@]}"; do
        touch "$tmp/$t.tsv"
        for w in "${all[@]}"; do cat "$tmp/w/$w/$t.tsv" 2>/dev/null || true; done >>"$tmp/$t.tsv"
    done
    if [ -n "$raw" ]; then
        if ! { mkdir -p "$raw" && cp "$tmp/results.tsv" "$tmp/sizes.tsv" "$tmp/meta.tsv" "$raw/"; }; then
            die "cannot copy the raw tables into $raw"
        fi
        note "raw tables in $raw (python3 bench/report.py $raw/results.tsv $raw/sizes.tsv $raw/meta.tsv)"
    fi
    local report=(python3 bench/report.py "$tmp/results.tsv" "$tmp/sizes.tsv" "$tmp/meta.tsv")
    if [ "$quick" = 1 ]; then
        if command -v gnuplot >/dev/null; then
            "${report[@]}" --chart "$tmp/benchmarks.png"
            [ -s "$tmp/benchmarks.png" ] || die "the chart was not drawn"
            note "drew the chart into a temporary file (--quick)"
        else
            note "gnuplot not installed: no chart (the full run needs gnuplot-nox)"
            "${report[@]}"
        fi
    else
        "${report[@]}" --chart "$chart" --doc "$doc"
        note "wrote the results into $doc and the chart into $chart"
    fi
}

main "$@"
