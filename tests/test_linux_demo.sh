#!/usr/bin/env bash
# Debian 12's own i386 kernel (6.1, linux-image-686) with busybox, through scripts/linux-demo.sh:
# boots headless to the shell, gets commands typed on the serial console (uname -a, cat
# /proc/cpuinfo, ls /) and answers them, powers off (status 0); the run is recorded, and its
# replay matches the record and gives the identical event log and serial output.
# The serial commands are typed once the shell prompts (as a person would): when they arrive
# depends on the host, so they are inputs the record keeps, and the replay takes them from there.
# Then the same through the keyboard and the screen: the shell on the VGA console, the commands
# typed on the PS/2 keyboard at fixed instruction counts (--keys-at), screenshots; its replay in
# the debugger reads the text screen (`screen`) before each command and checks the answers there,
# and gives the identical event log, serial output and screenshots.
# Last, under Xvfb (when it and xdotool are installed): scripts/linux-demo.sh --display sdl, the
# commands typed into the SDL window as a person types them, and the replay's screen.
# Skips (77) when the Debian packages cannot be fetched.
# Usage: test_linux_demo.sh SOURCE_DIR VMIEMU
set -uo pipefail
src=$1
vmiemu=$2
work=$(mktemp -d)
pid=
xvfb_pid=
cleanup() {
    # the script and the vmiemu it runs (its child)
    [ -z "$pid" ] || kill $(pgrep -P "$pid") "$pid" 2>/dev/null
    [ -z "$xvfb_pid" ] || kill "$xvfb_pid" 2>/dev/null
    exec 3>&- 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    for f in "$work"/*.out "$work"/*.err; do [ -f "$f" ] && { echo "--- $f (last 40 lines)"; tail -n 40 "$f"; }; done
    exit 1
}

"$src/scripts/linux-demo.sh" --prepare-only >"$work/prepare.out" 2>"$work/prepare.err"
status=$?
if [ "$status" -eq 77 ]; then
    echo "SKIP: $(tail -n 1 "$work/prepare.err")"
    exit 77
fi
[ "$status" -eq 0 ] || fail "linux-demo.sh --prepare-only exited $status"
kernel=$(sed -n 's/^kernel=//p' "$work/prepare.out")
initrd=$(sed -n 's/^initrd=//p' "$work/prepare.out")
[ -s "$kernel" ] && [ -s "$initrd" ] || fail "no kernel or initramfs: $kernel $initrd"

# --- 1. Recorded: boot, type, check, power off ---------------------------------------------------
# Each command is typed once the shell has prompted for it, as a person would: the first prompt,
# then the prompt after the previous command's answer (that one has no newline: it must reach
# the output while the guest waits for input, not with the next line).
# wait_for REGEX WHAT [N]: until the output has N (default 1) matches of REGEX (generous: a
# loaded machine)
wait_for() {
    local i
    for ((i = 0; i < 3000; i++)); do
        [ "$(grep -Eo "$1" "$work/run.out" 2>/dev/null | wc -l)" -ge "${3:-1}" ] && return 0
        kill -0 "$pid" 2>/dev/null || fail "vmiemu ended before $2"
        sleep 0.2
    done
    fail "no $2 after 10 minutes"
}
mkfifo "$work/in"
VMIEMU=$vmiemu "$src/scripts/linux-demo.sh" -- --record "$work/run.rec" --log "$work/run.log" \
    <"$work/in" >"$work/run.out" 2>"$work/run.err" &
pid=$!
exec 3>"$work/in"
wait_for 'demo:/root# ' "the shell's prompt"
printf 'uname -a\n' >&3
wait_for 'demo:/root# ' "the prompt after uname -a" 2
printf 'cat /proc/cpuinfo\n' >&3
wait_for 'demo:/root# ' "the prompt after cat /proc/cpuinfo" 3
printf 'ls /\n' >&3
wait_for 'demo:/root# ' "the prompt after ls /" 4
printf 'poweroff -f\n' >&3
wait "$pid"
status=$?
pid=
exec 3>&-
[ "$status" -eq 0 ] || fail "the run exited $status, want 0 (ACPI power-off)"
out=$work/run.out
grep -q 'Linux version 6\.1\.' "$out" || fail "no 6.1 kernel banner"
grep -q '^vmiemu-demo: Linux 6\.1\.[^ ]* i686' "$out" || fail "no demo banner from /init"
grep -Eq '^Linux [^ ]+ 6\.1\.[^ ]+ #1 SMP .* i686 GNU/Linux' "$out" || fail "no uname -a answer"
grep -Eq '^vendor_id[[:space:]]*: GenuineIntel' "$out" || fail "no vendor_id in /proc/cpuinfo"
grep -Eq '^model name[[:space:]]*: vmiemu virtual CPU' "$out" || fail "no model name in /proc/cpuinfo"
grep -Eq '^flags[[:space:]]*:.* sep .*cmov' "$out" || fail "no sep/cmov in the cpuinfo flags"
grep -Eq '^bin +dev +init +proc +root +sys +tmp' "$out" || fail "ls / did not list bin dev init proc root sys tmp"
grep -q 'reboot: Power down' "$out" || fail "no power-down message"
echo "ok: recorded run: booted, answered uname -a, /proc/cpuinfo, ls /, powered off"

# --- 2. Replayed: same log, same output ----------------------------------------------------------
"$vmiemu" --replay "$work/run.rec" --log "$work/replay.log" --serial "file:$work/replay.serial" \
    --initrd "$initrd" "$kernel" </dev/null >"$work/replay.out" 2>"$work/replay.err"
status=$?
[ "$status" -eq 0 ] || fail "the replay exited $status, want 0"
grep -Eq 'replay matched the record: [0-9]+ checks' "$work/replay.err" || fail "the replay did not report a match"
cmp -s "$work/run.log" "$work/replay.log" || fail "the replay's event log differs from the recorded run's"
[ -s "$work/run.log" ] || fail "empty event log"
cmp -s "$work/run.out" "$work/replay.serial" || fail "the replay's serial output differs" # (the script's lines: stderr)
echo "ok: replay matched the record; identical event log ($(wc -l <"$work/run.log") events) and serial output"

# --- 3. Through the keyboard, on the screen -------------------------------------------------------
# The kernel's console and the shell on the VGA text screen (console=tty0 last: /dev/console),
# the same commands typed on the PS/2 keyboard with --keys-at: each at a fixed instruction count,
# so the run is the same on any host. The counts leave room: the shell prompts at about 6.5·10^9
# (boot) and every command has answered within 10^8 instructions; the checks below fail if a
# prompt or an answer did not come in time. Screenshots before each command and at the end. (Off
# the snapshots' grid of 10^7: a key typed at a snapshot's count made a replay in the debugger
# diverge, the input and the snapshot's digest in the other order.)
t_uname=8000123457 t_cpuinfo=8300123457 t_ls=8600123457 t_off=8900123457
kbd=(--serial "file:$work/kbd.serial" --append "console=ttyS0 console=tty0" --initrd "$initrd")
"$vmiemu" "${kbd[@]}" --record "$work/kbd.rec" --log "$work/kbd.log" \
    --keys-at "$t_uname:uname -a\n" --keys-at "$t_cpuinfo:cat /proc/cpuinfo\n" \
    --keys-at "$t_ls:ls /\n" --keys-at "$t_off:poweroff -f\n" \
    --screenshot-at "$((t_uname - 1)):$work/kbd-prompt.png" --screenshot-at "$((t_cpuinfo - 1)):$work/kbd-uname.png" \
    --screenshot-at "$((t_off - 1)):$work/kbd-ls.png" --screenshot-at "99999999999:$work/kbd-end.png" \
    "$kernel" </dev/null >"$work/kbd.out" 2>"$work/kbd.err"
status=$?
[ "$status" -eq 0 ] || fail "the keyboard run exited $status, want 0 (ACPI power-off)"
grep -q 'reboot: Power down' "$work/kbd.serial" || fail "the keyboard run did not power down"
for f in prompt uname ls end; do
    [ "$(head -c 8 "$work/kbd-$f.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "kbd-$f.png is not a PNG"
done
echo "ok: keyboard run: typed 4 commands with --keys-at, powered off, 4 screenshots"

# --- 4. Its replay, with the screen read at each step ------------------------------------------
# The debugger's `screen` prints the text screen: just before each command, the answer to the
# one before (and the prompt for the next). The keys come from the record.
{
    for t in "$((t_uname - 1))" "$((t_cpuinfo - 1))" "$((t_ls - 1))" "$((t_off - 1))"; do
        printf 'goto icount %s\nscreen\nscreenshot %s\n' "$t" "$work/replay-$t.png"
    done
    printf 'continue\n'
} >"$work/check.gdb"
"$vmiemu" --replay "$work/kbd.rec" --log "$work/kbd-replay.log" --serial "file:$work/kbd-replay.serial" \
    -x "$work/check.gdb" --initrd "$initrd" "$kernel" </dev/null >"$work/kbd-replay.out" 2>"$work/kbd-replay.err"
status=$?
[ "$status" -eq 0 ] || fail "the keyboard run's replay exited $status, want 0"
grep -Eq 'replay matched the record: [0-9]+ checks' "$work/kbd-replay.err" || fail "the keyboard replay did not report a match"
cmp -s "$work/kbd.log" "$work/kbd-replay.log" || fail "the keyboard replay's event log differs from the recorded run's"
cmp -s "$work/kbd.serial" "$work/kbd-replay.serial" || fail "the keyboard replay's serial output differs"
# screen_at ICOUNT: the screen's 25 lines printed after "At icount ICOUNT"
# (and the current instruction's line), a row of 80 characters joined to the next as the
# console wrapped it
screen_at() {
    awk -v at="At icount $1" '$0 == at {n = 26; next} n > 0 && --n < 25' "$work/kbd-replay.out" |
        awk '{ line = line $0 } length($0) < 80 { print line; line = "" } END { if (line != "") print line }'
}
screen_at "$((t_uname - 1))" >"$work/screen-prompt.txt"
screen_at "$((t_cpuinfo - 1))" >"$work/screen-uname.txt"
screen_at "$((t_ls - 1))" >"$work/screen-cpuinfo.txt"
screen_at "$((t_off - 1))" >"$work/screen-ls.txt"
for f in prompt uname cpuinfo ls; do
    [ "$(wc -l <"$work/screen-$f.txt")" -ge 20 ] || fail "no screen for $f in the replay's output"
done
grep -q '^vmiemu-demo: a shell' "$work/screen-prompt.txt" || fail "the screen has no demo banner before uname -a"
grep -q '^demo:/root# ' "$work/screen-prompt.txt" || fail "the screen has no prompt before uname -a"
# (typed after the kernel's "random: crng init done", which came after the prompt: on a line of its own)
grep -Eq '^(demo:/root# )?uname -a$' "$work/screen-uname.txt" || fail "the screen does not show uname -a typed"
grep -Eq '^Linux [^ ]+ 6\.1\.[^ ]+ #1 SMP .* i686 GNU/Linux' "$work/screen-uname.txt" || fail "the screen has no uname -a answer"
# (its first lines have scrolled off the 25 rows)
grep -Eq '^flags[[:space:]]*:.* sep .*cmov' "$work/screen-cpuinfo.txt" || fail "the screen has no cpuinfo flags with sep, cmov"
grep -q '^power management' "$work/screen-cpuinfo.txt" || fail "the screen has no end of /proc/cpuinfo"
grep -q 'demo:/root# ls /$' "$work/screen-ls.txt" || fail "the screen does not show ls / typed"
grep -Eq '^bin +dev +init +proc +root +sys +tmp' "$work/screen-ls.txt" || fail "the screen has no ls / answer"
for f in uname cpuinfo ls; do # the prompt for the next command, after the answer
    grep -q '^demo:/root#$' "$work/screen-$f.txt" || fail "the screen has no prompt after the answer ($f)"
done
cmp -s "$work/kbd-prompt.png" "$work/replay-$((t_uname - 1)).png" || fail "the replay's screenshot before uname -a differs"
cmp -s "$work/kbd-ls.png" "$work/replay-$((t_off - 1)).png" || fail "the replay's screenshot after ls / differs"
cmp -s "$work/kbd-prompt.png" "$work/kbd-ls.png" && fail "the screen did not change between the first and last command"
echo "ok: keyboard replay matched the record; identical event log ($(wc -l <"$work/kbd.log") events) and serial output; the screen showed each command's answer; screenshots identical"

# --- 5. Typed into the window (scripts/linux-demo.sh --display sdl, under Xvfb) -----------------
# The shell on the window's screen, the commands typed into the window with xdotool once the
# kernel has started /init (keys typed ahead of the shell wait in the tty), recorded as keyboard
# input; the replay of the record shows their answers on its screen.
if ! command -v Xvfb >/dev/null || ! command -v xdotool >/dev/null || ! command -v xwininfo >/dev/null; then
    echo "skip: the window part needs Xvfb, xdotool and xwininfo (Debian packages xvfb, xdotool, x11-utils)"
    exit 0
fi
Xvfb -displayfd 4 -screen 0 1024x768x24 -nolisten tcp 4>"$work/display" 2>"$work/xvfb.err" &
xvfb_pid=$!
for _ in $(seq 100); do [ -s "$work/display" ] && break; sleep 0.1; done
[ -s "$work/display" ] || fail "Xvfb did not start"
export DISPLAY=":$(head -1 "$work/display")"
unset SDL_VIDEODRIVER
VMIEMU=$vmiemu "$src/scripts/linux-demo.sh" --display sdl -- --record "$work/win.rec" --log "$work/win.log" \
    </dev/null >"$work/win.out" 2>"$work/win.err" &
pid=$!
for ((i = 0; i < 3000; i++)); do # the kernel's console is on the serial port too
    grep -q 'Run /init as init process' "$work/win.out" && break
    kill -0 "$pid" 2>/dev/null || fail "vmiemu ended before /init (window run)"
    sleep 0.2
done
grep -q 'Run /init as init process' "$work/win.out" || fail "no /init after 10 minutes (window run)"
win=$(xwininfo -root -tree | awk '/"vmiemu - vmlinuz - /{print $1; exit}')
[ -n "$win" ] || fail "no vmiemu window on the X display"
# A person presses Return; xdotool's "type" of a newline sends Linefeed, which no PC key makes.
xdotool windowfocus --sync "$win" && xdotool type --delay 40 'uname -a' && xdotool key Return || fail "xdotool could not type"
sleep 5 # (so that the next command's echo does not land inside uname's answer)
xdotool type --delay 40 'poweroff -f' && xdotool key Return || fail "xdotool could not type"
for ((i = 0; i < 3000; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
wait "$pid"
status=$?
pid=
[ "$status" -eq 0 ] || fail "the window run exited $status, want 0 (poweroff -f typed into the window)"
grep -q '"device":"keyboard"' "$work/win.log" || fail "no keyboard input in the window run's log"
printf 'continue\nscreen\n' >"$work/win.gdb"
"$vmiemu" --replay "$work/win.rec" --log "$work/win-replay.log" -x "$work/win.gdb" --serial none \
    --initrd "$initrd" "$kernel" </dev/null >"$work/win-replay.out" 2>"$work/win-replay.err"
status=$?
[ "$status" -eq 0 ] || fail "the window run's replay exited $status, want 0"
cmp -s "$work/win.log" "$work/win-replay.log" || fail "the window run's replay has another event log"
grep -Eq 'Linux [^ ]+ 6\.1\.[^ ]+ #1 SMP' "$work/win-replay.out" || fail "the replay's screen has no uname -a answer"
# (The echo of the typed commands is not checked: the kernel's "random: crng init done" comes
# at a guest time the typing, done by the host's clock, may straddle, and cuts it anywhere.)
echo "ok: typed into the SDL window: uname -a answered on its screen, poweroff -f ended the run; the replay has the same event log and shows the answer"
