#!/usr/bin/env bash
# Installs the Debian 12 packages vmiemu needs, if any are missing. Never prompts.
set -euo pipefail

packages=(build-essential cmake pkg-config python3 python3-venv gcc-multilib nasm
          libsdl2-dev libreadline-dev zlib1g-dev liblz4-dev libjansson-dev libxml2-dev libxml2-utils check libcapstone-dev
          qemu-system-x86 gdb tmux bochs bochsbios vgabios bochs-sdl grub-pc-bin xorriso mtools gnuplot-nox cpio
          clang libclang-rt-14-dev console-setup-linux libpng-dev xvfb xdotool x11-utils
          file)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "deps: missing Debian packages: ${missing[*]}" >&2
    echo "deps: install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q >/dev/null
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
