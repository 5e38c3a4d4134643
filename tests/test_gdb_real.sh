#!/usr/bin/env bash
# Debian's real gdb against vmiemu's GDB stub, over TCP:
#   vmiemu -S --gdb tcp:127.0.0.1:PORT --serial none KERNEL
# then gdb -batch breaks at kmain, reads memory, steps forwards and backwards, reverse-continues
# to the start of history, watches a variable, continues to the guest's end, interrupts a long
# run with Ctrl-C, and kills. Assertions are greps on gdb's output. Then every way out of a
# session with --record: kill (a recorded stop, status 16), detach (the guest runs on to its
# end; also when the connection just closes; the port then listens for a new client), SIGINT to vmiemu (status 130); each record
# replays; recording and replaying with reverse-stepi / reverse-continue under gdb leave a
# record that replays and a replay that matches; and a replay that diverges under gdb exits 14.
#
# Usage: tests/test_gdb_real.sh [VMIEMU [KERNEL [GUEST_DIR]]]
#   defaults: build/release/vmiemu, build/release/testkernels/hello.elf and
#   build/release/tests/guest (for the replay fixtures diverge*.elf). A Ctrl-C check also runs
#   loop.elf from the kernel's folder when it is there.
# Prints one line per check and "N passed, N failed"; exits non-zero on any failure.
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
vmiemu=${1:-$here/build/release/vmiemu}
kernel=${2:-$here/build/release/testkernels/hello.elf}
guest_dir=${3:-$here/build/release/tests/guest}
loop_kernel=$(dirname "$kernel")/loop.elf
passed=0
failed=0
work=$(mktemp -d "${TMPDIR:-/tmp}/vmiemu-gdb.XXXXXX")
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
# check NAME FILE PATTERN: FILE has a line matching the extended regex PATTERN.
check() {
    if grep -Eq -- "$3" "$2"; then
        ok "$1"
    else
        bad "$1 (no /$3/ in $(basename "$2"))"
        tail -n 12 "$2" | sed 's/^/       | /' # what was there instead
    fi
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

if ! command -v gdb >/dev/null 2>&1; then
    echo "gdb not found: install gdb (Debian: apt-get install gdb)"
    bad "gdb is installed"
    finish
fi
for f in "$vmiemu" "$kernel"; do
    if [ ! -e "$f" ]; then
        bad "$f exists"
        finish
    fi
done

# Addresses from the ELF: no symbols reach gdb, only numbers.
# As gdb prints them: 0x100050, no leading zeros.
sym() { nm "$kernel" | awk -v s="$1" '$3 == s { print "0x" $1; exit }' | sed 's/^0x0*/0x/'; }
kmain=$(sym kmain)
probed=$(sym probed) # a bss flag vmi_probe sets to 1
entry=$(readelf -h "$kernel" | awk '/Entry point/ { print $4 }' | sed 's/^0x0*/0x/')
if [ -z "$kmain" ] || [ -z "$probed" ] || [ -z "$entry" ]; then
    bad "kmain, probed and the entry point found in $kernel"
    finish
fi
kmain8=$(printf '0x%08x' "$kmain")
entry8=$(printf '0x%08x' "$entry")
# The first four bytes of kmain as gdb's x/4xb prints them.
kmain_bytes=$(objdump -s --start-address="$kmain" --stop-address=$((kmain + 4)) "$kernel" |
    awk '/^ [0-9a-f]+ / { b = $2; printf "0x%s\t0x%s\t0x%s\t0x%s", substr(b,1,2), substr(b,3,2), substr(b,5,2), substr(b,7,2); exit }')

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
        echo $((20000 + RANDOM % 40000))
}

# start_vmiemu NAME KERNEL [vmiemu options...]: start it stopped, waiting for gdb; sets port.
start_vmiemu() {
    local name=$1 k=$2
    shift 2
    port=$(free_port)
    "$vmiemu" -S --gdb "tcp:127.0.0.1:$port" --serial none "$@" "$k" >"$work/$name.vm.out" 2>"$work/$name.vm.err" &
    vm_pid=$!
    for _ in $(seq 100); do
        grep -q "listening on 127.0.0.1:$port" "$work/$name.vm.err" 2>/dev/null && return 0
        kill -0 "$vm_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "vmiemu did not start listening; its stderr:"
    sed 's/^/    /' "$work/$name.vm.err"
    return 1
}

# wait_vmiemu NAME: vmiemu's exit status once the session is over (124 if it does not end).
wait_vmiemu() {
    for _ in $(seq 100); do
        kill -0 "$vm_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$vm_pid" 2>/dev/null; then
        kill "$vm_pid"
        wait "$vm_pid" 2>/dev/null
        vm_pid=
        return 124
    fi
    wait "$vm_pid"
    local st=$?
    vm_pid=
    return $st
}

gdb_batch() {
    timeout 60 gdb -batch -nx -ex 'set architecture i386' -ex "target remote 127.0.0.1:$port" "$@" 2>&1
}

# ---- 1. Breakpoint, memory, stepping both ways, reverse-continue, watchpoint, kill.
if start_vmiemu session "$kernel"; then
    out=$work/session.gdb
    gdb_batch \
        -ex "break *$kmain" -ex continue \
        -ex 'info registers eip' -ex "x/4xb $kmain" \
        -ex stepi -ex 'echo after-stepi\n' -ex 'info registers eip' \
        -ex reverse-stepi -ex 'echo after-reverse-stepi\n' -ex 'info registers eip' \
        -ex reverse-continue -ex 'echo after-reverse-continue\n' -ex 'info registers eip' -ex 'monitor icount' \
        -ex 'delete' -ex "watch *(char *)$probed" -ex continue -ex 'echo after-watch\n' -ex "x/1xb $probed" \
        -ex kill >"$out"
    check "gdb connects to the stub" "$out" "^(0x[0-9a-f]+ in \?\? \(\)|$entry8)"
    check "continue stops at the breakpoint at kmain ($kmain8)" "$out" "^Breakpoint 1, $kmain8 in"
    check "eip is kmain at the breakpoint" "$out" "^eip +$kmain +"
    check "x/4xb reads kmain's first bytes from guest memory" "$out" "^$kmain:	$kmain_bytes\$"
    if sed -n '/^after-stepi/,/^after-reverse-stepi/p' "$out" | grep -Eq "^eip +$kmain "; then
        bad "stepi changes eip"
    else
        ok "stepi changes eip"
    fi
    if sed -n '/^after-reverse-stepi/,/^after-reverse-continue/p' "$out" | grep -Eq "^eip +$kmain "; then
        ok "reverse-stepi returns to kmain"
    else
        bad "reverse-stepi returns to kmain"
    fi
    check "reverse-continue reaches the start of history" "$out" "No more reverse-execution history"
    if sed -n '/^after-reverse-continue/,$p' "$out" | grep -Eq "^eip +$entry "; then
        ok "reverse-continue lands at the entry point ($entry)"
    else
        bad "reverse-continue lands at the entry point ($entry)"
    fi
    check "monitor icount is 0 at the start of history" "$out" "^icount 0\$"
    check "a write watchpoint triggers" "$out" "^Hardware watchpoint 2: \*\(char \*\)$probed"
    check "the watchpoint reports the new value" "$out" "^New value = 1 "
    check "the watched byte reads 1" "$out" "^$probed:	0x01\$"
    check "kill ends the inferior" "$out" "\[Inferior 1 \(Remote target\) killed\]"
    wait_vmiemu
    st=$?
    if [ "$st" -eq 16 ]; then ok "vmiemu exits 16 after kill (stopped by the user)"; else bad "vmiemu exits 16 after kill (status $st)"; fi
    check "vmiemu says it listens on loopback" "$work/session.vm.err" "listening on 127\.0\.0\.1:$port"
    if grep -Eiq "error|warning: (remote|architecture)" "$out"; then
        bad "gdb reports no protocol errors"
        grep -Ei "error|warning" "$out" | sed 's/^/    /'
    else
        ok "gdb reports no protocol errors"
    fi
    [ "$failed" -eq 0 ] || { echo "gdb output:"; sed 's/^/    /' "$out"; }
else
    bad "vmiemu -S --gdb starts listening"
fi

# ---- 2. The guest runs to its end: gdb sees the exit, vmiemu exits with the guest's status.
if start_vmiemu end "$kernel"; then
    out=$work/end.gdb
    gdb_batch -ex continue >"$out"
    check "the guest's end reaches gdb as an exit (hello passes: 0x10)" "$out" "exited with code 020\]"
    wait_vmiemu
    st=$?
    if [ "$st" -eq 33 ]; then ok "vmiemu exits with hello's status 33"; else bad "vmiemu exits with hello's status 33 (status $st)"; fi
else
    bad "vmiemu -S --gdb starts listening (second run)"
fi

# ---- 3. Ctrl-C in gdb interrupts a long run; kill ends it.
if [ -e "$loop_kernel" ]; then
    if start_vmiemu ctrlc "$loop_kernel" --append iters=4000000000; then
        out=$work/ctrlc.gdb
        # Not through a function: $! must be timeout's pid, which passes the signal on to gdb.
        # --foreground: otherwise timeout also signals its whole process group, so gdb gets the
        # SIGINT twice, and a second Ctrl-C before the stop reply makes gdb give up on the target
        # ("not responding to interrupt requests") unless the two happen to merge.
        timeout --foreground 60 gdb -batch -nx -ex 'set architecture i386' -ex "target remote 127.0.0.1:$port" \
            -ex "shell touch $work/ctrlc.started" -ex continue -ex "shell touch $work/ctrlc.stopped" \
            -ex 'monitor icount' -ex 'info registers eip' -ex kill >"$out" 2>&1 &
        gdb_pid=$!
        # Interrupt only while gdb's continue runs: a SIGINT before it (while gdb connects) or
        # after it (in the commands that follow) aborts gdb's batch. gdb's own output sits in
        # its stdout buffer until it exits, so marker files it touches around the continue say
        # when that is; each SIGINT gets 20 s to be answered before the next is sent.
        for _ in $(seq 600); do [ -e "$work/ctrlc.started" ] && break; sleep 0.1; done
        sleep 1
        for _ in 1 2 3; do
            kill -INT "$gdb_pid" 2>/dev/null # what Ctrl-C in gdb's terminal does
            for _ in $(seq 200); do [ -e "$work/ctrlc.stopped" ] && break; sleep 0.1; done
            [ -e "$work/ctrlc.stopped" ] && break
        done
        wait "$gdb_pid"
        check "Ctrl-C stops the running guest" "$out" "Program received signal SIGINT"
        check "the guest had run when interrupted" "$out" "^icount [1-9][0-9]*\$"
        check "kill ends the session" "$out" "\[Inferior 1 \(Remote target\) killed\]"
        wait_vmiemu
        st=$?
        if [ "$st" -eq 16 ]; then ok "vmiemu exits 16 after kill"; else bad "vmiemu exits 16 after kill (status $st)"; fi
    else
        bad "vmiemu -S --gdb starts listening (loop kernel)"
    fi
fi

# ---- 4. Ways out with --record: each record has its end entry and replays.
rec=$work/run.rec
# replay_check NAME WANT_STATUS PATTERN: replay $rec without a debugger; its output goes to $work/NAME.replay.*
replay_check() {
    "$vmiemu" --serial none --replay "$rec" "$kernel" >"$work/$1.replay.out" 2>"$work/$1.replay.err"
    local st=$?
    if [ "$st" -eq "$2" ]; then ok "$1: the replay exits $2"; else bad "$1: the replay exits $2 (status $st)"; fi
    check "$1: the replay matches the record" "$work/$1.replay.err" "$3"
}

if start_vmiemu reckill "$kernel" --record "$rec"; then
    gdb_batch -ex "break *$kmain" -ex continue -ex kill >"$work/reckill.gdb"
    wait_vmiemu
    st=$?
    if [ "$st" -eq 16 ]; then ok "recorded kill: vmiemu exits 16"; else bad "recorded kill: vmiemu exits 16 (status $st)"; fi
    check "recorded kill: vmiemu says the user stopped it" "$work/reckill.vm.err" "stopped by the GDB client \(kill\)"
    replay_check reckill 16 "replay matched the record: [0-9]+ checks, up to icount [0-9]+ where the recording was stopped"
else
    bad "vmiemu -S --gdb --record starts listening"
fi

if start_vmiemu recdetach "$kernel" --record "$rec"; then
    gdb_batch -ex "break *$kmain" -ex continue -ex detach >"$work/recdetach.gdb"
    check "detach ends the session" "$work/recdetach.gdb" "\[Inferior 1 \(Remote target\) detached\]"
    wait_vmiemu
    st=$?
    if [ "$st" -eq 33 ]; then ok "after detach the guest runs on to its end: status 33"; else bad "after detach the guest runs on to its end: status 33 (status $st)"; fi
    replay_check recdetach 33 "replay matched the record: [0-9]+ checks, ended 'exit-port'"
else
    bad "vmiemu -S --gdb --record starts listening (detach)"
fi

# A connection that closes without detaching (a client that died) is a detach too.
if start_vmiemu rechangup "$kernel" --record "$rec"; then
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf '+$?#3f' >&3
    sleep 0.5
    exec 3>&-
    wait_vmiemu
    st=$?
    if [ "$st" -eq 33 ]; then ok "after a hang-up the guest runs on to its end: status 33"; else bad "after a hang-up the guest runs on to its end: status 33 (status $st)"; fi
    replay_check rechangup 33 "replay matched the record: [0-9]+ checks, ended 'exit-port'"
else
    bad "vmiemu -S --gdb --record starts listening (hang-up)"
fi

# A dropped connection does not end the run: the guest runs on and the port listens again, so
# a new client can connect (here to kill it: status 16).
if [ -e "$loop_kernel" ]; then
    if start_vmiemu reconnect "$loop_kernel" --append iters=4000000000; then
        exec 3<>"/dev/tcp/127.0.0.1/$port"
        printf '+$?#3f' >&3
        sleep 0.5
        exec 3>&-
        for _ in $(seq 100); do grep -q "waiting for a new client" "$work/reconnect.vm.err" && break; sleep 0.1; done
        gdb_batch -ex kill >"$work/reconnect.gdb"
        wait_vmiemu
        st=$?
        if [ "$st" -eq 16 ]; then ok "after a hang-up a new client can connect and kill: status 16"; else bad "after a hang-up a new client can connect and kill: status 16 (status $st)"; fi
        check "vmiemu says it waits for a new client" "$work/reconnect.vm.err" "the guest runs on; waiting for a new client"
    else
        bad "vmiemu -S --gdb starts listening (reconnect)"
    fi
fi

# SIGINT to vmiemu itself while gdb holds the guest stopped.
if start_vmiemu recsigint "$kernel" --record "$rec"; then
    mkfifo "$work/hold"
    (timeout 60 gdb -batch -nx -ex 'set architecture i386' -ex "target remote 127.0.0.1:$port" \
        -ex "break *$kmain" -ex continue -ex 'echo at-kmain\n' -ex 'shell cat '"$work/hold" >"$work/recsigint.gdb" 2>&1) &
    gdb_job=$!
    for _ in $(seq 200); do grep -q "at-kmain" "$work/recsigint.gdb" 2>/dev/null && break; sleep 0.1; done
    kill -INT "$vm_pid"
    wait_vmiemu
    st=$?
    echo >"$work/hold"
    wait "$gdb_job"
    if [ "$st" -eq 130 ]; then ok "SIGINT to vmiemu under gdb: status 130"; else bad "SIGINT to vmiemu under gdb: status 130 (status $st)"; fi
    replay_check recsigint 16 "replay matched the record: [0-9]+ checks, up to icount [0-9]+ where the recording was stopped"
    check "recsigint: the replay says why the recording stopped" "$work/recsigint.replay.err" "stopped by SIGINT"
else
    bad "vmiemu -S --gdb --record starts listening (SIGINT)"
fi

# Going back under gdb while recording, and again while replaying that record.
# A late kprintf comes after hello's VMI calls have begun, so the stretch gone back over has
# calls and (with --snap-every 1000) digests that a record must not hold twice.
printf_at=$(sym kprintf)
back=(-ex "break *$printf_at" -ex 'ignore 1 12' -ex continue -ex stepi -ex stepi -ex reverse-stepi
      -ex reverse-continue -ex continue -ex delete -ex continue)
if start_vmiemu recback "$kernel" --snap-every 1000 --record "$rec"; then
    gdb_batch "${back[@]}" >"$work/recback.gdb"
    wait_vmiemu
    st=$?
    if [ "$st" -eq 33 ]; then ok "recording with reverse execution under gdb: status 33"; else bad "recording with reverse execution under gdb: status 33 (status $st)"; fi
    hits=$(grep -c "^Breakpoint 1, " "$work/recback.gdb")
    if [ "$hits" -eq 3 ]; then ok "recording under gdb: hit, reverse-continue to it, hit again"; else bad "recording under gdb: hit, reverse-continue to it, hit again ($hits hits)"; fi
    replay_check recback 33 "replay matched the record: [0-9]+ checks, ended 'exit-port'"
    # Replay a plain recording, going back the same way: the re-run stretch is checked again.
    "$vmiemu" --serial none --snap-every 1000 --record "$rec" "$kernel" >/dev/null 2>&1
    if start_vmiemu replayback "$kernel" --replay "$rec"; then
        gdb_batch "${back[@]}" >"$work/replayback.gdb"
        wait_vmiemu
        st=$?
        if [ "$st" -eq 33 ]; then ok "replay with reverse execution under gdb: status 33"; else bad "replay with reverse execution under gdb: status 33 (status $st)"; fi
        check "replay with reverse execution under gdb matches the record" "$work/replayback.vm.err" "replay matched the record: [0-9]+ checks, ended 'exit-port'"
    else
        bad "vmiemu -S --gdb --replay starts listening"
    fi
else
    bad "vmiemu -S --gdb --record starts listening (going back)"
fi

# ---- 5. A replay that diverges under gdb exits 14.
if [ -e "$guest_dir/diverge.elf" ]; then
    "$vmiemu" --serial none --record "$rec" "$guest_dir/diverge.elf" >/dev/null 2>&1
    if start_vmiemu diverge "$guest_dir/diverge_variant.elf" --replay "$rec" --replay-any-kernel; then
        gdb_batch -ex continue >"$work/diverge.gdb"
        check "the divergence reaches gdb as an exit with status 14" "$work/diverge.gdb" "exited with code 016\]"
        wait_vmiemu
        st=$?
        if [ "$st" -eq 14 ]; then ok "a diverging replay under gdb exits 14"; else bad "a diverging replay under gdb exits 14 (status $st)"; fi
        check "vmiemu reports the divergence" "$work/diverge.vm.err" "replay diverged at icount"
    else
        bad "vmiemu -S --gdb --replay starts listening"
    fi
else
    bad "$guest_dir/diverge.elf exists"
fi

finish
