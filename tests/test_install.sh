#!/usr/bin/env bash
# `cmake --install` into a temporary prefix: the installed vmiemu runs (--version, --help), the man
# page is where man looks for it and reads cleanly (`man -l`, when man is installed), and the
# docs are under share/doc/vmiemu. Usage: test_install.sh BUILD_DIR
set -uo pipefail
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$build" --prefix "$tmp/usr" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "cmake --install"; }
for f in bin/vmiemu bin/vmiemu-regress share/man/man1/vmiemu.1.gz share/doc/vmiemu/README.md share/doc/vmiemu/docs/ARCHITECTURE.md; do
    [ -f "$tmp/usr/$f" ] || fail "not installed: $f"
done
[ -x "$tmp/usr/bin/vmiemu" ] || fail "bin/vmiemu is not executable"

"$tmp/usr/bin/vmiemu" --version >"$tmp/version" || fail "installed vmiemu --version exited $?"
grep -q '^vmiemu [0-9]' "$tmp/version" || fail "--version printed: $(cat "$tmp/version")"
"$tmp/usr/bin/vmiemu" --help >"$tmp/help" || fail "installed vmiemu --help exited $?"
grep -q -- '--append STR' "$tmp/help" || fail "--help lacks --append"
"$tmp/usr/bin/vmiemu-regress" --help | grep -q -- '--shard K/N' || fail "installed vmiemu-regress --help"

if ! command -v man >/dev/null; then
    echo "man is not installed: the page was not rendered"
    exit 0
fi
# Plain ASCII rendering, so a roff hyphen (\-) reads as '-'; any groff warning goes to stderr.
LC_ALL=C MANWIDTH=80 man -l "$tmp/usr/share/man/man1/vmiemu.1.gz" >"$tmp/page" 2>"$tmp/page.err" \
    || fail "man -l exited $?: $(cat "$tmp/page.err")"
[ -s "$tmp/page.err" ] && fail "man -l warned: $(cat "$tmp/page.err")"
col -b <"$tmp/page" >"$tmp/page.txt"
for want in 'VMIEMU(1)' 'NAME' 'SYNOPSIS' 'OPTIONS' 'EXIT STATUS' '--append STR' '-d, --shell' \
            '--replay-any-kernel' 'guest RAM (default 128'; do
    grep -qF -- "$want" "$tmp/page.txt" || fail "the rendered page lacks '$want'"
done
echo "ok"
