#!/usr/bin/env bash
# Set-up shared by run.sh and test.sh: Debian packages, Unicorn 2.1.4 from PyPI in a venv
# under the build folder, and a CMake configuration. Usage: scripts/setup.sh BUILD_DIR [cmake args]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: scripts/setup.sh BUILD_DIR [cmake args]}
shift

"$root/scripts/deps.sh"

venv="$root/build/venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import unicorn, sys; sys.exit(unicorn.__version__ != "2.1.4")' 2>/dev/null; then
    echo "setup: installing unicorn==2.1.4 from PyPI into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check unicorn==2.1.4
fi
unicorn_dir=$("$venv/bin/python" -c 'import os, unicorn; print(os.path.dirname(unicorn.__file__))')
if [ ! -f "$unicorn_dir/lib/libunicorn.a" ]; then
    echo "setup: the unicorn wheel has no lib/libunicorn.a; trying a source build" >&2
    "$venv/bin/pip" install --quiet --force-reinstall --no-binary unicorn unicorn==2.1.4
fi

cmake -S "$root" -B "$build" -DUNICORN_DIR="$unicorn_dir" "$@" >/dev/null
