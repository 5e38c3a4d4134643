#!/usr/bin/env bash
# `cpack -G DEB` builds a Debian package named vmiemu into a temporary folder; dpkg-deb shows its
# control fields (Package, Depends on the libraries the binary links; no Unicorn, which is
# static) and its files (the command, the man page, the docs). Usage: test_package.sh BUILD_DIR
set -uo pipefail
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp" >"$tmp/cpack.log" 2>&1 \
    || { cat "$tmp/cpack.log"; fail "cpack exited $?"; }
debs=("$tmp"/vmiemu_*.deb)
[ -f "${debs[0]}" ] || { ls "$tmp"; fail "no vmiemu_*.deb"; }
deb=${debs[0]}

dpkg-deb -I "$deb" >"$tmp/info" || fail "dpkg-deb -I exited $?"
cat "$tmp/info"
grep -qx ' Package: vmiemu' "$tmp/info" || fail "Package is not vmiemu"
depends=$(sed -n 's/^ Depends: //p' "$tmp/info")
for lib in libc6 libreadline8 zlib1g liblz4-1 libcapstone4 libjansson4 libxml2; do
    grep -qE "(^|, )$lib( |,|$)" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
grep -qi unicorn <<<"$depends" && fail "Depends names Unicorn (linked statically): $depends"

dpkg-deb -c "$deb" | awk '{print $NF}' >"$tmp/files" || fail "dpkg-deb -c exited $?"
cat "$tmp/files"
for f in ./usr/bin/vmiemu ./usr/bin/vmiemu-regress ./usr/share/man/man1/vmiemu.1.gz ./usr/share/doc/vmiemu/README.md \
         ./usr/share/doc/vmiemu/docs/ARCHITECTURE.md ./usr/share/doc/vmiemu/docs/BENCHMARKS.md; do
    grep -qx -- "$f" "$tmp/files" || fail "the package lacks $f"
done
# Nothing else: no headers, libraries, test kernels or build files.
extra=$(grep -v -e '/$' -e '^./usr/bin/vmiemu$' -e '^./usr/bin/vmiemu-regress$' -e '^./usr/share/man/man1/vmiemu.1.gz$' \
                -e '^./usr/share/doc/vmiemu/' "$tmp/files")
[ -z "$extra" ] || fail "unexpected files in the package: $extra"
echo "ok"
