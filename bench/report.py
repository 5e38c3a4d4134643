#!/usr/bin/env python3
"""Turns the raw timings of scripts/bench.sh into Markdown.

Usage: report.py RESULTS.tsv META.tsv [--doc docs/BENCHMARKS.md]

RESULTS.tsv: one timed run a line, `bench<TAB>peer<TAB>iters<TAB>rep<TAB>seconds`.
META.tsv:    `key<TAB>value` lines written by bench.sh (machine, versions, commands, checks).
Prints the report on stdout; with --doc, also replaces the text between the
BEGIN/END markers of that file (creating the file or the markers if absent).
"""
import statistics
import sys
from collections import defaultdict

BEGIN = "<!-- bench.sh: BEGIN generated results -->"
END = "<!-- bench.sh: END generated results -->"

LOOP_PEERS = [
    ("vmiemu", "vmiemu"),
    ("vmiemu-norom", "vmiemu `--no-rom`"),
    ("qemu-tcg", "QEMU TCG"),
    ("qemu-icount", "QEMU `-icount shift=0`"),
    ("qemu-rr", "QEMU `-icount shift=0,rr=record`"),
    ("unicorn", "bare Unicorn, no hook (`bench/ucloop`)"),
    ("unicorn-hook", "bare Unicorn + empty block hook"),
]
CALL_PEERS = [
    ("vmiemu", "vmiemu"),
    ("vmiemu-log", "vmiemu `--log FILE`"),
]


def read_results(path):
    """{(bench, peer): {iters: {rep: seconds}}}"""
    runs = defaultdict(lambda: defaultdict(dict))
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            bench, peer, iters, rep, secs = line.rstrip("\n").split("\t")
            runs[(bench, peer)][int(iters)][int(rep)] = float(secs)
    return runs


def read_meta(path):
    meta = {}
    multi = defaultdict(list)
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            meta[key] = value
            multi[key].append(value)
    return meta, multi


class Rate:
    """Timing of one peer: medians, and the rate from the small/big difference."""

    def __init__(self, runs, per_iter):
        self.ok = len(runs) >= 2
        if not self.ok:
            return
        small, big = min(runs), max(runs)
        self.small, self.big = small, big
        ts, tb = runs[small], runs[big]
        self.t_small = statistics.median(ts.values())
        self.t_big = statistics.median(tb.values())
        self.dt = self.t_big - self.t_small
        work = per_iter * (big - small)
        self.rate = work / self.dt if self.dt > 0 else None
        per_rep = [work / (tb[r] - ts[r]) for r in ts if r in tb and tb[r] > ts[r]]
        self.lo = min(per_rep) if per_rep else None
        self.hi = max(per_rep) if per_rep else None
        self.reps = len(tb)


def fmt(x, digits=3):
    return "n/a" if x is None else f"{x:.{digits}f}"


def ratio(a, b):
    return "n/a" if a is None or b is None or b == 0 else f"{a / b:.2f}"


def loop_table(runs, meta):
    rates = {p: Rate(runs[("loop", p)], 6) for p, _ in LOOP_PEERS}
    ref = rates["vmiemu"].rate if rates["vmiemu"].ok else None
    out = [
        f"Guest MIPS on `loop.elf` (6 instructions per iteration), iters=N_small and "
        f"iters=N_big, median of {meta['reps']} run(s) each. "
        "MIPS = 6·(N_big − N_small) / (t_big − t_small); the range is the lowest and highest "
        "per-repetition value. Ratio = vmiemu MIPS / peer MIPS. Plain TCG gets a bigger N_big "
        "so that its t(big) − t(small) is not a small difference of noisy times.",
        "",
        "| peer | N_small | N_big | t(small) s | t(big) s | t(big) − t(small) s | MIPS | MIPS range "
        "| vmiemu/peer |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for peer, label in LOOP_PEERS:
        r = rates[peer]
        if not r.ok:
            continue
        rng = "n/a" if r.lo is None else f"{r.lo / 1e6:.0f}–{r.hi / 1e6:.0f}"
        mips = None if r.rate is None else r.rate / 1e6
        out.append(
            f"| {label} | {r.small} | {r.big} | {fmt(r.t_small)} | {fmt(r.t_big)} | {fmt(r.dt)} | "
            f"{fmt(mips, 0)} | {rng} | {ratio(ref, r.rate)} |")
    return out, rates


def call_table(runs, meta):
    small, big = int(meta["call_small"]), int(meta["call_big"])
    rates = {p: Rate(runs[("callloop", p)], 1) for p, _ in CALL_PEERS}
    ref = rates["vmiemu"].rate if rates["vmiemu"].ok else None
    out = [
        f"VMI GetCycleCounter calls per second on `callloop.elf`, iters={small} vs "
        f"iters={big}, median of {meta['reps']} run(s) each, same subtraction. "
        "Ratio = vmiemu calls/s / peer calls/s.",
        "",
        "| peer | t(small) s | t(big) s | t(big) − t(small) s | calls/s | ns/call | vmiemu/peer |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for peer, label in CALL_PEERS:
        r = rates[peer]
        if not r.ok:
            continue
        ns = None if r.rate is None else 1e9 / r.rate
        cps = "n/a" if r.rate is None else f"{r.rate:,.0f}"
        out.append(
            f"| {label} | {fmt(r.t_small)} | {fmt(r.t_big)} | {fmt(r.dt)} | {cps} | {fmt(ns, 0)} | "
            f"{ratio(ref, r.rate)} |")
    return out, rates


def summary(loop, call, meta):
    out = []
    v, q, qi = loop["vmiemu"], loop["qemu-tcg"], loop["qemu-icount"]
    if v.ok and q.ok and qi.ok and None not in (v.rate, q.rate, qi.rate):
        out.append(
            f"- Loop: vmiemu {v.rate / 1e6:.0f} MIPS = {v.rate / q.rate:.2f}× plain QEMU TCG "
            f"and {v.rate / qi.rate:.2f}× QEMU `-icount shift=0`.")
    u, uh = loop["unicorn"], loop["unicorn-hook"]
    if v.ok and u.ok and uh.ok and None not in (v.rate, u.rate, uh.rate):
        out.append(
            f"- Same loop on bare Unicorn 2.1.4: {u.rate / 1e6:.0f} MIPS with no hook, "
            f"{uh.rate / 1e6:.0f} MIPS with an empty block hook "
            f"(the hook leaves {uh.rate / u.rate:.2f}× of the no-hook speed); vmiemu runs at "
            f"{v.rate / uh.rate:.2f}× the hooked speed.")
    c, cl = call["vmiemu"], call["vmiemu-log"]
    if c.ok and cl.ok and None not in (c.rate, cl.rate):
        extra = 1e9 / cl.rate - 1e9 / c.rate
        line = (f"- Call loop: {1e9 / c.rate:.0f} ns per GetCycleCounter iteration; "
                f"`--log` adds {extra:.0f} ns per call")
        if "log_bytes_per_call" in meta:
            line += f" and writes {float(meta['log_bytes_per_call']):.0f} bytes of JSON per call"
        out.append(line + ".")
    if "call_insns_per_iter" in meta:
        out.append(f"- One call-loop iteration is {meta['call_insns_per_iter']} guest instructions "
                   "by vmiemu's count (the ROM call counts as one), from the counter values "
                   "callloop prints.")
    return out


def report(runs, meta, multi):
    lines = []
    lines.append(f"Run {meta['date']} with `{meta['invocation']}`"
                 f"{' (quick smoke test: timings meaningless)' if meta['quick'] == '1' else ''}.")
    lines.append("")
    lines.append("**Machine:** " + meta["machine"] + "  ")
    lines.append("**Load average** (1/5/15 min) before: " + meta["load_before"]
                 + "; after: " + meta["load_after"] + "  ")
    lines.append("**Versions:** " + "; ".join(multi["version"]))
    lines.append("")
    loop_lines, loop = loop_table(runs, meta)
    call_lines, call = call_table(runs, meta)
    lines += ["### Tight loop", ""] + loop_lines + [""]
    lines += ["### VMI call loop", ""] + call_lines + [""]
    s = summary(loop, call, meta)
    if s:
        lines += ["### Summary (computed from the tables above)", ""] + s + [""]
    lines += ["### Checks", ""]
    lines += [f"- {c}" for c in multi["check"]]
    lines += ["", "### Exact commands", "",
              "Run from the repository root; `N` is the iteration count, `$TMP` a fresh "
              "`mktemp -d` folder. `$TMP/vmiemu` and `$TMP/*.elf` are copies of "
              "`build/release/vmiemu` and `build/release/testkernels/*.elf` taken right after "
              "the build, so a concurrent rebuild cannot change them mid-run. "
              "Every command is run under `timeout "
              f"{meta['timeout']}` and must exit with status 33 (`ucloop`: 0).", "", "```sh"]
    lines += multi["command"]
    lines += ["```", "",
              "Before the timed runs each command is run once, untimed, at the big iteration "
              "count with `none` replaced by `file:PATH` for the serial port (`ucloop`: its "
              "stdout), to check its output (the checks above)."]
    return lines


def write_doc(path, block):
    text = "\n".join([BEGIN] + block + [END]) + "\n"
    try:
        with open(path) as f:
            old = f.read()
    except FileNotFoundError:
        old = "# Benchmarks\n\n"
    if BEGIN in old and END in old:
        head, rest = old.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        new = head + text.rstrip("\n") + tail
    else:
        new = old.rstrip("\n") + "\n\n" + text
    with open(path, "w") as f:
        f.write(new)


def main(argv):
    if len(argv) not in (3, 5) or (len(argv) == 5 and argv[3] != "--doc"):
        sys.exit("usage: report.py RESULTS.tsv META.tsv [--doc FILE]")
    runs = read_results(argv[1])
    meta, multi = read_meta(argv[2])
    block = report(runs, meta, multi)
    print("\n".join(block))
    if len(argv) == 5:
        write_doc(argv[4], block)


if __name__ == "__main__":
    main(sys.argv)
