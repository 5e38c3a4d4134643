#!/usr/bin/env bash
# Set up (Debian packages, Unicorn 2.1.4), build, and boot a kernel with the serial console on
# this terminal. Usage: scripts/run.sh [KERNEL [vmiemu options]]   (default: the hello kernel)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/release"

"$root/scripts/setup.sh" "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$(nproc)" >/dev/null

kernel="$build/testkernels/hello.elf"
if [ $# -gt 0 ]; then
    kernel=$1
    shift
fi
set +e
"$build/vmiemu" "$@" "$kernel"
status=$?
set -e
echo "vmiemu: exit status $status" >&2
exit $status
