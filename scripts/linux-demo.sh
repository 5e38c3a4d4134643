#!/usr/bin/env bash
# Debian 12's own i386 kernel on vmiemu, interactive: fetches the linux-image-686 and
# busybox-static packages (i386) with apt-get download, builds an initramfs of busybox and a
# small /init, and boots it to a busybox shell on the serial console (this terminal), or in a
# window with --display sdl. The kernel runs natively: it knows nothing of VMI, and vmiemu's ROM
# stays unused. `poweroff -f` in the shell ends the run (ACPI power-off, exit status 0).
#
# Usage: scripts/linux-demo.sh [options] [-- vmiemu options]
#   --prepare-only   fetch and build only; print the kernel and initramfs paths (kernel=...,
#                    initrd=...) on stdout
#   --display MODE   vmiemu's --display MODE (sdl: the kernel's console and the shell on the
#                    emulated screen and keyboard; needs a vmiemu with --display)
#   --append STR     more kernel command line
#   --dir DIR        cache and work directory (default build/debian-demo)
#   --vmiemu PATH    the vmiemu to run (default $VMIEMU, else build/release/vmiemu)
#   -h, --help       this text
# The packages are downloaded once into DIR/debs. apt-get needs the i386 architecture: if it is
# missing the script adds it (dpkg --add-architecture i386, apt-get update; as root, or through
# `sudo -n`) and says so on stderr. Never reads the terminal.
# Exit status: vmiemu's; 2 for a bad command line; 77 if the packages cannot be fetched (no
# network, no i386 architecture and no way to add it), with the reason on stderr.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

say() { echo "linux-demo: $*" >&2; }
cannot_fetch() { say "cannot fetch the Debian packages: $*"; exit 77; }
usage() { sed -n '/^# Usage:/,/^# network/p' "$0" | sed 's/^# \{0,1\}//'; }

dir="$root/build/debian-demo"
vmiemu=${VMIEMU:-$root/build/release/vmiemu}
prepare_only=false
display=
append=
while [ $# -gt 0 ]; do
    case $1 in
    --prepare-only) prepare_only=true ;;
    --display) [ $# -ge 2 ] || { say "--display needs a MODE"; exit 2; }; display=$2; shift ;;
    --append) [ $# -ge 2 ] || { say "--append needs a string"; exit 2; }; append=$2; shift ;;
    --dir) [ $# -ge 2 ] || { say "--dir needs a directory"; exit 2; }; dir=$2; shift ;;
    --vmiemu) [ $# -ge 2 ] || { say "--vmiemu needs a path"; exit 2; }; vmiemu=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    *) say "unknown option '$1' (see --help)"; exit 2 ;;
    esac
    shift
done

debs="$dir/debs"
unpacked="$dir/unpacked"
kernel="$dir/vmlinuz"
initrd="$dir/initramfs.cpio.gz"
mkdir -p "$debs"

# --- the packages -------------------------------------------------------------------------------
have_debs() { compgen -G "$debs/linux-image-*-686_*_i386.deb" >/dev/null && compgen -G "$debs/busybox-static_*_i386.deb" >/dev/null; }

# A command as root: directly when root, else through sudo without a password prompt.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@"
    else say "not root and no password-less sudo for: $*"; return 1
    fi
}

fetch() {
    command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 || cannot_fetch "no apt-get/dpkg (not Debian)"
    local update=false
    if ! dpkg --print-foreign-architectures | grep -qx i386 && [ "$(dpkg --print-architecture)" != i386 ]; then
        say "adding the i386 architecture to dpkg (dpkg --add-architecture i386) to download i386 packages"
        as_root dpkg --add-architecture i386 || cannot_fetch "adding the i386 architecture needs root or sudo"
        update=true
    fi
    if ! apt-cache show linux-image-686:i386 >/dev/null 2>&1; then update=true; fi
    if $update; then
        say "updating the package lists (apt-get update) for the i386 packages"
        as_root apt-get update -q >/dev/null || cannot_fetch "apt-get update failed (network?)"
    fi
    # linux-image-686 is a metapackage: the kernel is the package it depends on.
    local image
    image=$(apt-cache depends linux-image-686:i386 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
    [ -n "$image" ] || cannot_fetch "apt-cache knows no linux-image-686:i386"
    local sandbox=()
    [ "$(id -u)" -eq 0 ] && sandbox=(-o APT::Sandbox::User=root) # root downloads into a folder _apt cannot write
    say "downloading ${image%:i386} and busybox-static (i386) into $debs"
    (cd "$debs" && apt-get download -q "${sandbox[@]}" "$image" busybox-static:i386 >/dev/null) ||
        cannot_fetch "apt-get download failed (network?)"
}

have_debs || fetch
kdeb=$(compgen -G "$debs/linux-image-*-686_*_i386.deb" | sort -V | tail -n 1)
bdeb=$(compgen -G "$debs/busybox-static_*_i386.deb" | sort -V | tail -n 1)

# --- the kernel and the initramfs (rebuilt when a package is newer) ------------------------------
if [ ! -s "$kernel" ] || [ ! -s "$initrd" ] || [ "$kdeb" -nt "$kernel" ] || [ "$bdeb" -nt "$initrd" ] ||
    [ "$0" -nt "$initrd" ]; then
    command -v cpio >/dev/null 2>&1 || { say "cpio is needed to build the initramfs (apt-get install cpio)"; exit 1; }
    rm -rf "$unpacked" "$dir/initramfs"
    dpkg-deb -x "$kdeb" "$unpacked"
    dpkg-deb -x "$bdeb" "$unpacked"
    cp "$(compgen -G "$unpacked/boot/vmlinuz-*" | head -n 1)" "$kernel.tmp" && mv "$kernel.tmp" "$kernel"
    stage="$dir/initramfs"
    mkdir -p "$stage/bin" "$stage/dev" "$stage/proc" "$stage/sys" "$stage/tmp" "$stage/root"
    cp "$unpacked/bin/busybox" "$stage/bin/busybox"
    cat >"$stage/init" <<'EOF'
#!/bin/busybox sh
# /init of vmiemu's Debian demo (scripts/linux-demo.sh): busybox's applets, /proc, /sys, /dev,
# then a shell on the console. "demo.poweroff" on the command line powers off instead (bench).
/bin/busybox --install -s /bin
export PATH=/bin HOME=/root PS1='demo:\w# '
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "vmiemu-demo: $(uname -sr) $(uname -m), $(busybox | head -n 1 | cut -d' ' -f1-2)"
case " $(cat /proc/cmdline) " in
*" demo.poweroff "*) echo "vmiemu-demo: powering off"; exec poweroff -f ;;
esac
echo "vmiemu-demo: a shell; 'poweroff -f' ends the run"
cd /root
exec sh
EOF
    chmod 755 "$stage/init" "$stage/bin/busybox"
    # Reproducible: sorted names, one timestamp, no name or time in the gzip header.
    find "$stage" -exec touch -h -d @0 {} +
    (cd "$stage" && find . -print | LC_ALL=C sort | cpio -o -H newc --reproducible -R 0:0 --quiet) |
        gzip -9 -n >"$initrd.tmp"
    mv "$initrd.tmp" "$initrd"
    rm -rf "$unpacked"
fi

if $prepare_only; then
    echo "kernel=$kernel"
    echo "initrd=$initrd"
    exit 0
fi

# --- boot ----------------------------------------------------------------------------------------
[ -x "$vmiemu" ] || { say "no vmiemu at $vmiemu (build it: scripts/setup.sh build/release && cmake --build build/release)"; exit 2; }
cmdline="console=ttyS0"
args=()
if [ -n "$display" ]; then
    # (not `--help | grep -q`: under pipefail, grep quitting early fails the pipe with SIGPIPE)
    grep -q -- '--display' <<<"$("$vmiemu" --help 2>&1)" || { say "this vmiemu has no --display option"; exit 2; }
    args+=(--display "$display")
    [ "$display" = none ] || cmdline="console=ttyS0 console=tty0" # the last one is /dev/console: the screen
fi
[ -z "$append" ] || cmdline="$cmdline $append"
say "booting $(basename "$kdeb" .deb) with busybox; 'poweroff -f' in the shell ends the run"
set +e
"$vmiemu" --initrd "$initrd" --append "$cmdline" "${args[@]}" "$@" "$kernel"
status=$?
set -e
say "vmiemu: exit status $status"
exit $status
