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
    ("vmiemu-nosnap", "vmiemu `--snap-every 0`"),
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
PEER_LABELS = dict(LOOP_PEERS + CALL_PEERS + [
    ("qemu-icount-nosleep", "QEMU `-icount shift=0,sleep=off`"),
])


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


def label(peer):
    return PEER_LABELS.get(peer, peer)


def peers_of(meta, key):
    return meta.get(key, "").split()


def profile(meta, bench):
    """vmiemu's per-iteration counts from its log: (n1, n2, insns, {event: count})."""
    raw = meta.get("profile_" + bench)
    if not raw:
        return None
    n1, n2, rest = raw.split(" ", 2)
    insns, events = None, {}
    for item in rest.split(";"):
        key, _, value = item.rpartition("=")
        if key == "insns":
            insns = float(value)
        else:
            events[key] = float(value)
    return int(n1), int(n2), insns, events


def events_text(events):
    return ", ".join(f"{v:g} × {k}" for k, v in events.items())


def rate_table(runs, meta, bench, peers, unit, per_unit_cols):
    """A small/big table for `bench`: per_unit_cols = [(header, divisor)] adds ns-per-X
    columns (ns per iteration / divisor)."""
    rates = {p: Rate(runs[(bench, p)], 1) for p in peers}
    ref = rates["vmiemu"].rate if "vmiemu" in rates and rates["vmiemu"].ok else None
    head = (f"| peer | N_small | N_big | t(small) s | t(big) s | t(big) − t(small) s | {unit}/s | "
            f"ns/{unit} | ns/{unit} range | ")
    head += "".join(f"{h} | " for h, _ in per_unit_cols) + "vmiemu/peer |"
    out = [head, "|---|" + "---:|" * (8 + len(per_unit_cols)) + "---:|"]
    for peer in peers:
        r = rates[peer]
        if not r.ok:
            continue
        ns = None if r.rate is None else 1e9 / r.rate
        rng = "n/a" if r.lo is None else f"{1e9 / r.hi:,.0f}–{1e9 / r.lo:,.0f}"
        per = "".join(f"{fmt(None if ns is None else ns / d, 0)} | " for _, d in per_unit_cols)
        rate = "n/a" if r.rate is None else f"{r.rate:,.0f}"
        out.append(f"| {label(peer)} | {r.small} | {r.big} | {fmt(r.t_small)} | {fmt(r.t_big)} | "
                   f"{fmt(r.dt)} | {rate} | {fmt(ns, 0)} | {rng} | {per}{ratio(ref, r.rate)} |")
    return out, rates


def pte_table(runs, meta):
    peers = peers_of(meta, "peers_pteloop")
    out = [
        "`pteloop.elf`: one iteration maps a page with SetPxE + InvalPage, reads and writes it, and "
        "unmaps it with SetPxE + InvalPage (4 VMI calls with the ROM; natively 2 stores and 2 "
        "`invlpg`). iters=N_small vs iters=N_big, median of "
        f"{meta['reps']} run(s) each, same subtraction as above. ns per pair = ns per iteration / 2 "
        "(one SetPxE + InvalPage, or store + `invlpg`); ratio = vmiemu iterations/s / peer's.",
        "",
    ]
    t, rates = rate_table(runs, meta, "pteloop", peers, "iteration",
                          [("ns per SetPxE+InvalPage pair", 2)])
    return out + t, rates


def irq_table(runs, meta, bench):
    peers = peers_of(meta, "peers_irq")
    phase = "spin" if bench == "irqspin" else "halt"
    if phase == "spin":
        what = ("interrupts on, a busy loop with no VMI call in it until N interrupts have "
                "arrived")
    else:
        what = ("DisableInterrupts, test the count, VMI Halt (natively `sti; hlt`) until N "
                "interrupts have arrived")
    out = [
        f"`irqloop.elf {phase}`: IRQ 0 from a periodic alarm of 1676 cycles (VMI SetAlarm; "
        f"natively the PIT at 2 ticks = 1676 ns, under plain QEMU TCG at `pit={meta['tcg_pit']}` "
        f"ticks), a handler that counts and sends the EOI; {what}. N = interrupts; "
        f"median of {meta['reps']} run(s) each, same subtraction. Ratio = vmiemu interrupts/s "
        "/ peer's.",
        "",
    ]
    t, rates = rate_table(runs, meta, bench, peers, "interrupt", [])
    return out + t, rates


def whole_table(runs, meta):
    out = [
        "Whole runs of the test kernels with their default command line"
        + (f" (timer.elf: `{meta['timer_args']}`)" if meta.get("timer_args") else "")
        + f", median of {meta['reps']} run(s). Instructions: vmiemu's own count (the `end` "
        "event of an untimed `--log` run; a ROM call counts as one); QEMU does not report one, so "
        "its rows have wall time only. Start-up: the peer's median t(small) of `loop.elf` "
        "iters=1000 above (boot, ROM set-up, exit); MIPS past start-up = instructions / (wall − "
        "start-up).",
        "",
        "| kernel | peer | wall s | wall range s | guest instructions | MIPS (whole run) | "
        "start-up s | MIPS past start-up |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    walls = {}
    for kernel in ("paging", "timer"):
        for peer in peers_of(meta, "peers_" + kernel):
            t = runs[(kernel, peer)].get(0)
            if not t:
                continue
            w = statistics.median(t.values())
            walls[(kernel, peer)] = w
            ins = meta.get(f"insns_{kernel}_{peer}")
            ins = int(ins) if ins else None
            loop_small = runs[("loop", peer)].get(int(meta["loop_small"]))
            start = statistics.median(loop_small.values()) if loop_small else None
            mips = f"{ins / w / 1e6:.1f}" if ins and w > 0 else "n/a"
            past = (f"{ins / (w - start) / 1e6:.1f}" if ins and start is not None and w > start
                    else "n/a")
            out.append(
                f"| `{kernel}.elf` | {label(peer)} | {w:.3f} | {min(t.values()):.3f}–"
                f"{max(t.values()):.3f} | {'n/a' if ins is None else f'{ins:,}'} | {mips} | "
                f"{fmt(start)} | {past} |")
    notes = []
    for kernel in ("paging", "timer"):
        for peer in peers_of(meta, "peers_" + kernel):
            raw = meta.get(f"events_{kernel}_{peer}")
            if not raw:
                continue
            items = dict(item.rsplit("=", 1) for item in raw.split(";"))
            total = int(items.pop("total", "0"))
            top = ", ".join(f"{int(v):,} × {k}" for k, v in items.items())
            notes.append(f"- `{kernel}.elf` on {label(peer)}, by its `--log`: {total:,} events; "
                         f"most frequent: {top}.")
    if notes:
        out += [""] + notes
    return out, walls


def profiles(meta):
    out = []
    for bench, what in (("pteloop", "iteration"), ("irqspin", "interrupt (spin)"),
                        ("irqhalt", "interrupt (halt)")):
        p = profile(meta, bench)
        if p is None:
            continue
        n1, n2, insns, events = p
        out.append(f"- vmiemu, per {what}, from `--log` runs at N={n1} and N={n2} (difference / "
                   f"{n2 - n1}): {insns:g} guest instructions; events: {events_text(events)}.")
    return out


def summary(loop, call, meta):
    out = []
    v, q, qi = loop["vmiemu"], loop["qemu-tcg"], loop["qemu-icount"]
    if v.ok and q.ok and qi.ok and None not in (v.rate, q.rate, qi.rate):
        out.append(
            f"- Loop: vmiemu {v.rate / 1e6:.0f} MIPS = {v.rate / q.rate:.2f}× plain QEMU TCG "
            f"and {v.rate / qi.rate:.2f}× QEMU `-icount shift=0`.")
    ns = loop.get("vmiemu-nosnap")
    if v.ok and ns and ns.ok and None not in (v.rate, ns.rate):
        out.append(
            f"- Loop with snapshots off (`--snap-every 0`): {ns.rate / 1e6:.0f} MIPS; vmiemu's default "
            f"(snapshots on) runs at {v.rate / ns.rate:.2f}× that.")
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


def summary_new(pte, spin, halt, walls, loop, call, meta):
    out = []
    v = pte.get("vmiemu")
    p = profile(meta, "pteloop")
    if v and v.ok and v.rate:
        ns = 1e9 / v.rate
        line = (f"- pteloop: vmiemu {ns:,.0f} ns per iteration = {ns / 4:,.0f} ns per VMI call "
                "(4 per iteration)")
        c = call.get("vmiemu")
        if c and c.ok and c.rate:
            line += f", against {1e9 / c.rate:,.0f} ns per GetCycleCounter iteration in callloop"
        if p:
            line += (f"; {p[2]:g} guest instructions per iteration, so "
                     f"{p[2] * v.rate / 1e6:.1f} MIPS inside this loop")
        out.append(line + ".")
        for peer in ("vmiemu-nosnap", "vmiemu-norom", "qemu-tcg", "qemu-icount"):
            r = pte.get(peer)
            if r and r.ok and r.rate:
                out.append(f"  - {label(peer)}: {1e9 / r.rate:,.0f} ns per iteration "
                           f"(vmiemu takes {r.rate / v.rate:.1f}× as long).")
    lp = loop.get("vmiemu")
    for name, rates, bench in (("spin", spin, "irqspin"), ("halt", halt, "irqhalt")):
        v = rates.get("vmiemu")
        if not (v and v.ok and v.rate):
            continue
        ns = 1e9 / v.rate
        line = f"- irqloop {name}: vmiemu {ns:,.0f} ns per delivered interrupt"
        p = profile(meta, bench)
        if p:
            line += f", {p[2]:g} guest instructions per interrupt ({events_text(p[3])})"
            if name == "spin" and lp and lp.ok and lp.rate:
                busy = p[2] / lp.rate * 1e9
                line += (f"; those instructions at loop.elf's {lp.rate / 1e6:.0f} MIPS would take "
                         f"{busy:,.0f} ns, which leaves ~{ns - busy:,.0f} ns for the interrupt")
        out.append(line + ".")
        for peer in ("vmiemu-norom", "qemu-tcg", "qemu-icount-nosleep"):
            r = rates.get(peer)
            if r and r.ok and r.rate:
                out.append(f"  - {label(peer)}: {1e9 / r.rate:,.0f} ns per interrupt "
                           f"(vmiemu/peer {v.rate / r.rate:.2f}).")
    for kernel in ("paging", "timer"):
        w = walls.get((kernel, "vmiemu"))
        ins = meta.get(f"insns_{kernel}_vmiemu")
        if w and ins:
            peers = "; ".join(f"{label(p)} {walls[(kernel, p)]:.2f} s" for (k, p) in walls
                              if k == kernel and p != "vmiemu")
            out.append(f"- {kernel}.elf: vmiemu {w:.2f} s for {int(ins):,} instructions "
                       f"({int(ins) / w / 1e6:.1f} MIPS over the whole run); {peers}.")
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
    pte_lines, pte = pte_table(runs, meta)
    spin_lines, spin = irq_table(runs, meta, "irqspin")
    halt_lines, halt = irq_table(runs, meta, "irqhalt")
    whole_lines, walls = whole_table(runs, meta)
    lines += ["### Tight loop", ""] + loop_lines + [""]
    lines += ["### VMI call loop", ""] + call_lines + [""]
    lines += ["### Page-table updates (SetPxE + InvalPage)", ""] + pte_lines + [""]
    lines += ["### Timer interrupts, busy loop", ""] + spin_lines + [""]
    lines += ["### Timer interrupts, Halt between ticks", ""] + halt_lines + [""]
    lines += ["### Whole runs: paging.elf and timer.elf", ""] + whole_lines + [""]
    s = summary(loop, call, meta) + summary_new(pte, spin, halt, walls, loop, call, meta)
    if s:
        lines += ["### Summary (computed from the tables above)", ""] + s + [""]
    pr = profiles(meta)
    if pr:
        lines += ["### What one iteration is, by vmiemu's count", ""] + pr + [""]
    lines += ["### Checks", ""]
    lines += [f"- {c}" for c in multi["check"]]
    lines += ["", "### Exact commands", "",
              "Run from the repository root; `N` is the iteration count, `$TMP` a fresh "
              "`mktemp -d` folder. `$TMP/vmiemu` and `$TMP/*.elf` are copies of "
              "`build/release/vmiemu`, `build/release/testkernels/*.elf` and "
              "`build/release/bench/*.elf` taken right after the build, so a concurrent rebuild "
              "cannot change them mid-run. "
              "Every command is run under `timeout "
              f"{meta['timeout']}` and must exit with status 33 (`ucloop`: 0).", "", "```sh"]
    lines += multi["command"]
    lines += ["```", "",
              "Before the timed runs each command is run once, untimed, at the big iteration "
              "count (pteloop, irqloop: the vmiemu N_big, the same for every peer; paging, timer: "
              "their only command line) with `none` replaced by `file:PATH` for the serial port "
              "(`ucloop`: its stdout), to check its output (the checks above); the per-iteration "
              "counts come from two more untimed vmiemu runs each with `--log FILE` added."]
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
