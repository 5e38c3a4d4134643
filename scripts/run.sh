#!/usr/bin/env bash
# Set up (Debian packages, Unicorn 2.1.4), build, and boot a kernel with the serial console on
# this terminal. Usage: scripts/run.sh [KERNEL [vmiemu options]]
# Without KERNEL it boots the demo, the hello test kernel, which powers off through VMI Shutdown
# when its checks pass: exit status 0 (a failed check ends through the exit port, status 35).
# A given KERNEL ends with its own status. VMIEMU=path/to/vmiemu runs that binary (and the demo
# beside it, in testkernels/) instead of setting up and building.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if [ -n "${VMIEMU:-}" ]; then
    vmiemu=$VMIEMU
else
    build="$root/build/release"
    "$root/scripts/setup.sh" "$build" -DCMAKE_BUILD_TYPE=Release
    cmake --build "$build" -j"$(nproc)" >/dev/null
    vmiemu="$build/vmiemu"
fi

if [ $# -gt 0 ]; then
    kernel=$1
    shift
else
    kernel="$(dirname "$vmiemu")/testkernels/hello.elf"
    set -- --append shutdown
fi
set +e
"$vmiemu" "$@" "$kernel"
status=$?
set -e
echo "vmiemu: exit status $status" >&2
exit $status
