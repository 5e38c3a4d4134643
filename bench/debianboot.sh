#!/usr/bin/env bash
# Boot time of Debian 12's own i386 kernel (scripts/linux-demo.sh's files) on vmiemu and on
# QEMU TCG: the same bzImage and initramfs, /init powering off at once (demo.poweroff), timed
# to its "vmiemu-demo: powering off" line and to the end of the run; wall and CPU seconds,
# medians of REPS (default 3) runs of each. Prints a Markdown table for docs/BENCHMARKS.md.
# Usage: bench/debianboot.sh [REPS]   (VMIEMU=path/to/vmiemu, default build/release/vmiemu)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
reps=${1:-3}
vmiemu=${VMIEMU:-$root/build/release/vmiemu}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

prep=$("$root/scripts/linux-demo.sh" --prepare-only)
kernel=$(sed -n 's/^kernel=//p' <<<"$prep")
initrd=$(sed -n 's/^initrd=//p' <<<"$prep")
append="console=ttyS0 demo.poweroff"
declare -A cmds=(
    [vmiemu]="$vmiemu --initrd $initrd --append '$append' $kernel"
    [vmiemu-rec]="$vmiemu --record $work/run.rec --initrd $initrd --append '$append' $kernel"
    [qemu-tcg]="qemu-system-i386 -m 128 -kernel $kernel -initrd $initrd -append '$append' -nographic -no-reboot -monitor none"
)
peers=(vmiemu vmiemu-rec qemu-tcg)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$work/times.tsv"
for ((r = 1; r <= reps; r++)); do
    for p in "${peers[@]}"; do
        eval "cmd=(${cmds[$p]})"
        line=$(python3 "$root/bench/linuxboot.py" time --mark 'vmiemu-demo: powering off' --timeout 900 \
               --out "$work/out.txt" -- "${cmd[@]}")
        [ "$(cut -f3 <<<"$line")" = 0 ] && [ "$(cut -f1 <<<"$line")" != - ] ||
            { tail -n 20 "$work/out.txt" >&2; echo "debianboot: $p did not boot and power off: $line" >&2; exit 1; }
        printf '%s\t%s\n' "$p" "$line" >>"$work/times.tsv"
        echo "debianboot: $p rep $r: $line" >&2
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$work/times.tsv" "$load_before" "$load_after" "$reps" <<'EOF'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
by = {}
for peer, to_mark, to_end, status, cpu in rows:
    by.setdefault(peer, []).append((float(to_mark), float(to_end), float(cpu)))
med = {p: [statistics.median(v[i] for v in vs) for i in range(3)] for p, vs in by.items()}
q = med["qemu-tcg"]
print(f"| peer | to /init's power-off line (s) | to the end (s) | CPU (s) | CPU ÷ QEMU TCG |")
print("|---|---:|---:|---:|---:|")
for p in ("vmiemu", "vmiemu-rec", "qemu-tcg"):
    m = med[p]
    print(f"| {p} | {m[0]:.1f} | {m[1]:.1f} | {m[2]:.1f} | {m[2] / q[2]:.2f}× |")
print(f"\nMedians of {sys.argv[4]} runs each; load average before {sys.argv[2]}, after {sys.argv[3]}.")
EOF
