#!/usr/bin/env bash
# Boots a Multiboot kernel under Bochs 2.7 (Debian 12's `bochs`) from a GRUB ISO, headless, and
# ends with the kernel's exit status the way QEMU's isa-debug-exit does: (code << 1) | 1, so
# PASS (0x10) -> 33 and FAIL (0x11) -> 35.
#
#   bench/bochs-run.sh [--serial FILE] [--cache DIR] [--megs N] [--ips N] KERNEL.elf [CMDLINE]
#
# --serial FILE  COM1 output goes to FILE (written when Bochs has ended; - or /dev/stdout:
#                to standard output); default: dropped.
# --cache DIR    keep the ISOs in DIR, keyed by a hash of the kernel bytes and CMDLINE, and
#                reuse them; default: build one per run in the temporary folder.
# --megs N       guest RAM in MiB (default 128).
# --ips N        Bochs' instructions per emulated second (default 100000000), see below.
# CMDLINE is split at blanks into words, joined again with single spaces (GRUB's multiboot
# command), and may not hold ' " or \.
#
# Bochs has no exit device: testkernels/lib/exit.c writes "vmiemu-exit 0x<code>" to port 0xE9
# (port_e9_hack, on Bochs' stdout) and "Shutdown" to port 0x8900, which ends the simulation
# (Bochs itself then exits with status 1, whatever the code). A kernel that never reports
# (crash, triple fault, Bochs panic) ends with status 1 and the tail of the Bochs log on
# stderr; usage errors end with 2.
#
# Time: with `clock: sync=none` Bochs runs as fast as it can and emulated time is the
# instruction count: the TSC advances 1 per instruction and the PIT 1193182/IPS per
# instruction, so the guest measures a TSC of IPS Hz. How fast Bochs emulates does not depend
# on IPS; what a timed wait costs in instructions does. The BIOS and GRUB wait for Bochs'
# CD-ROM by polling (each read: a 4 ms seek), so the boot grows with IPS: about 33, 52 and
# 180 million instructions at 1, 100 and 1000 MIPS. Guest timers set in time units shrink
# in instructions as IPS falls (bench/kernels/mixed.c's 100 us tick is 100 instructions at
# 1 MIPS, and interrupts then come faster than the kernel runs), hence the default of 100
# MIPS: a tick every 10000 instructions there, a tenth of QEMU -icount shift=0's (1 GHz).
# Timers set in cycles do not care (irqloop: a period of P cycles is P instructions).
# `romimage: options=fastboot` skips the BIOS' 3 s wait for the boot-menu key.
#
# Headless: Debian's bochs has no "nogui" display library, so this uses sdl2 (package
# bochs-sdl) with SDL's dummy video and audio drivers; the rfb library would open a VNC port.
# Debian's bochs is built with the debugger, which would stop at a prompt first: `-rc` feeds it
# "continue" then "quit". Runs are independent (own temporary folder; cached ISOs are written
# under a temporary name and renamed) and leave nothing behind.
set -uo pipefail

usage() {
    echo "usage: bench/bochs-run.sh [--serial FILE] [--cache DIR] [--megs N] [--ips N] KERNEL.elf [CMDLINE]" >&2
    exit 2
}
die() {
    echo "bochs-run: $*" >&2
    exit 1
}

serial='' cache='' megs=128 ips=100000000
while [ $# -gt 0 ]; do
    case $1 in
    --serial) [ $# -ge 2 ] || usage; serial=$2; shift 2 ;;
    --cache) [ $# -ge 2 ] || usage; cache=$2; shift 2 ;;
    --megs) [ $# -ge 2 ] || usage; megs=$2; shift 2 ;;
    --ips) [ $# -ge 2 ] || usage; ips=$2; shift 2 ;;
    --) shift; break ;;
    -*) usage ;;
    *) break ;;
    esac
done
[ $# -ge 1 ] && [ $# -le 2 ] || usage
kernel=$1 cmdline=${2-}
[[ $megs =~ ^[1-9][0-9]{0,3}$ ]] || { echo "bochs-run: --megs wants 1..9999 (MiB)" >&2; usage; }
[[ $ips =~ ^[1-9][0-9]{6,9}$ ]] && ((ips <= 4000000000)) ||
    { echo "bochs-run: --ips wants 1000000..4000000000" >&2; usage; }
[ -f "$kernel" ] && [ -r "$kernel" ] || { echo "bochs-run: no kernel file '$kernel'" >&2; usage; }
# GRUB's multiboot command passes these on with a backslash before each: refuse them
[[ $cmdline != *[\'\"\\]* ]] || { echo "bochs-run: GRUB cannot pass ' \" or \\ in CMDLINE" >&2; usage; }
set -f # CMDLINE is split into words below: no globbing

bochs=$(command -v bochs) || die "bochs not found: install the Debian packages bochs bochsbios vgabios bochs-sdl"
command -v grub-mkrescue >/dev/null || die "grub-mkrescue not found: install grub-pc-bin (and grub-common)"
command -v xorriso >/dev/null || die "xorriso not found: install xorriso"
[ -f /usr/lib/grub/i386-pc/multiboot.mod ] || die "no GRUB BIOS modules: install grub-pc-bin"
bios=/usr/share/bochs/BIOS-bochs-latest vgabios=/usr/share/vgabios/vgabios.bin
[ -f "$bios" ] || die "no $bios: install bochsbios"
[ -f "$vgabios" ] || die "no $vgabios: install vgabios"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bochs-run.XXXXXX") || die "cannot make a temporary folder"
bochs_pid='' partial=''
serial_copied=0
copy_serial() { # the COM1 output to --serial FILE, once
    [ -n "$serial" ] && [ $serial_copied -eq 0 ] || return 0
    serial_copied=1
    touch "$tmp/serial.txt" # Bochs may have ended before opening it
    case $serial in # reopening a redirected stdout by name would truncate what it holds
    - | /dev/stdout) cat "$tmp/serial.txt" ;;
    *) cat "$tmp/serial.txt" >"$serial" || echo "bochs-run: cannot write $serial" >&2 ;;
    esac
}
cleanup() {
    if [ -n "$bochs_pid" ] && kill -0 "$bochs_pid" 2>/dev/null; then
        kill -TERM "$bochs_pid" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$bochs_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$bochs_pid" 2>/dev/null
        wait "$bochs_pid" 2>/dev/null
        copy_serial # what a killed run printed helps to see where it was
    fi
    rm -rf "$tmp"
    [ -z "$partial" ] || rm -f "$partial"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# The ISO: GRUB for BIOS only, no fonts, locales or themes (0.8 MB; preloading the modules
# into the core image costs more to decompress than reading them); grub.cfg boots at once.
# Each word of the command line goes in single quotes (GRUB's script quoting is the shell's);
# GRUB joins the words with one space (it would quote a word holding a space).
recipe="bochs-run iso 2: $(grub-mkrescue --version 2>&1)"
make_iso() { # make_iso OUTPUT
    local tree=$tmp/iso args='' word
    mkdir -p "$tree/boot/grub" && cp "$kernel" "$tree/boot/kernel.elf" || return 1
    for word in $cmdline; do args+=" '$word'"; done
    printf 'set timeout=0\nmultiboot /boot/kernel.elf%s\nboot\n' "$args" >"$tree/boot/grub/grub.cfg" ||
        return 1
    TMPDIR=$tmp grub-mkrescue -d /usr/lib/grub/i386-pc \
        --install-modules="multiboot normal" --fonts= --locales= --themes= -o "$1" "$tree" \
        </dev/null >"$tmp/mkrescue.log" 2>&1
    local rc=$?
    rm -rf "$tree"
    [ $rc -eq 0 ] || { cat "$tmp/mkrescue.log" >&2; return 1; }
    # Bochs' CD-ROM makes every read wait for a seek of 4 ms + 80 ms * distance / disk size,
    # which the BIOS and GRUB spend polling (instructions); a disk of 64 MiB (sparse zeros
    # after the image) leaves about the 4 ms: 20% fewer boot instructions at 100 MIPS.
    truncate -s 64M "$1"
}
if [ -n "$cache" ]; then
    mkdir -p "$cache" || die "cannot make the cache folder $cache"
    key=$({ printf '%s\0%s\0' "$recipe" "$cmdline"; cat "$kernel"; } | sha256sum | cut -c1-16)
    name=$(basename "$kernel" .elf)
    iso=$cache/$name-$key.iso
    if [ ! -s "$iso" ]; then # built beside it and renamed: a concurrent run sees all or nothing
        partial=$cache/.$name-$key.$$.iso
        make_iso "$partial" || die "grub-mkrescue failed"
        mv -f "$partial" "$iso" || die "cannot write $iso"
        partial=''
    fi
else
    iso=$tmp/boot.iso
    make_iso "$iso" || die "grub-mkrescue failed"
fi
# bochsrc values cannot hold every path: Bochs runs in $tmp and reads files of plain names
# there, the ISO through a link.
ln -s "$(cd "$(dirname "$iso")" && pwd)/$(basename "$iso")" "$tmp/boot-link.iso" || die "cannot link the ISO"

serial_dev=/dev/null
[ -n "$serial" ] && serial_dev=serial.txt
cat >"$tmp/bochsrc" <<EOF
# written by bench/bochs-run.sh
display_library: sdl2
romimage: file=$bios, options=fastboot
vgaromimage: file=$vgabios
megs: $megs
cpu: count=1, ips=$ips, reset_on_triple_fault=0
clock: sync=none, time0=1767225600
ata0-master: type=cdrom, path=boot-link.iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=$serial_dev
port_e9_hack: enabled=1
speaker: enabled=0
sound: driver=dummy
log: bochs.log
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore
EOF
printf 'continue\nquit\n' >"$tmp/debugger"
args=(-q -f bochsrc)
# -rc exists only in a Bochs built with the debugger (Debian's is)
help=$("$bochs" --help 2>&1)
grep -q -- '^ *-rc ' <<<"$help" && args+=(-rc debugger)

(cd "$tmp" && exec env SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy "$bochs" "${args[@]}") \
    </dev/null >"$tmp/stdout" 2>"$tmp/stderr" &
bochs_pid=$!
wait "$bochs_pid"
bochs_status=$?
bochs_pid=

copy_serial

code=$(grep -a -o 'vmiemu-exit 0x[0-9a-fA-F]\{1,8\}' "$tmp/stdout" | tail -n 1 | cut -d' ' -f2)
if [ -z "$code" ]; then
    echo "bochs-run: $kernel reported no exit code on port 0xE9 (crash, triple fault, hang or Bochs panic; bochs exit status $bochs_status)" >&2
    grep -q "display library 'sdl2' not available" "$tmp/stderr" "$tmp/bochs.log" 2>/dev/null &&
        echo "bochs-run: Bochs has no sdl2 display library: install bochs-sdl" >&2
    echo "bochs-run: Bochs' message:" >&2
    grep -a -A1 'Bochs is exiting with the following message' "$tmp/stderr" | tail -n 1 | sed 's/^/  /' >&2
    echo "bochs-run: last lines of the Bochs log:" >&2
    tail -n 30 "$tmp/bochs.log" 2>/dev/null | sed 's/^/  /' >&2
    exit 1
fi
exit $((((code << 1) | 1) & 0xFF))
