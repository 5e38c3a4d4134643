#!/usr/bin/env python3
"""Turns the raw timings of scripts/bench.sh into Markdown (and a bar chart).

Usage: report.py RESULTS.tsv SIZES.tsv META.tsv [--chart PNG] [--doc docs/BENCHMARKS.md]

RESULTS.tsv: one timed run a line, `workload<TAB>peer<TAB>iters<TAB>rep<TAB>seconds`.
SIZES.tsv:   `workload<TAB>peer<TAB>iters<TAB>file<TAB>bytes`: the size of the record (run.rec)
             or --log file (events.jsonl) a timed run wrote.
META.tsv:    `key<TAB>value` lines written by bench.sh (machine, versions, counts, commands,
             checks, vmiemu's per-iteration counts, timetravel_bench's figures).
Prints the report on stdout. --chart: draws the work rate of every peer relative to QEMU TCG
as grouped bars with gnuplot into PNG. --doc: also replaces the text between the BEGIN/END
markers of that file (creating the file or the markers if absent), with a link to the chart.
"""
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict

BEGIN = "<!-- bench.sh: BEGIN generated results -->"
END = "<!-- bench.sh: END generated results -->"

# name: (title, unit of work, what one unit is)
WORKLOADS = {
    "loop": ("ALU loop", "iteration",
             "`loop.elf`: add, xor, sub, rol, dec, jnz, 6 instructions per iteration, no VMI "
             "call"),
    "callloop": ("VMI calls", "call",
                 "`callloop.elf`: one GetCycleCounter(real) per iteration through the VMI "
                 "wrapper: a ROM call with the ROM, `rdtsc` natively"),
    "pteloop": ("page-table churn", "iteration",
                "`pteloop.elf`: SetPxE + InvalPage to map a page at 0x40000000, read and write "
                "it, SetPxE + InvalPage to unmap it: 4 VMI calls with the ROM, natively 2 stores "
                "and 2 `invlpg`; every read is checked"),
    "irqloop": ("timer interrupts", "interrupt",
                "`irqloop.elf spin`: a periodic alarm every 1676 cycles (VMI SetAlarm wired to "
                "IRQ 0; natively the PIT at 2 ticks), a handler that counts and sends the EOI, "
                "and a busy loop with interrupts on until N have arrived"),
    "memstream": ("memory streaming", "iteration",
                  "`memstream.elf`: two 1 MiB buffers mapped at 0x40000000; per iteration a "
                  "`rep movsd` copy of one into the other and a read-modify-write pass over the "
                  "first (5 MiB of traffic), no VMI call"),
    "mixed": ("kernel-like mix", "iteration",
              "`mixed.elf`: two ring-3 processes in their own address spaces; per iteration "
              "ALU work, an `int 0x80` system call whose kernel side reads the cycle counter, "
              "maps a page (SetPxE + InvalPage), copies 4 KiB with interrupts on and returns "
              "through IRET; a context switch (SetCR3, UpdateKernelStack) every 8 iterations "
              "and a 100 µs periodic timer throughout"),
    "irqhalt": ("timer interrupts, Halt between ticks", "interrupt",
                "`irqloop.elf halt`: the same alarm; DisableInterrupts, test the count, VMI Halt "
                "(natively `sti; hlt`) until N interrupts have arrived"),
}

WHY = {"irqhalt": ", for vmiemu, vmiemu `--no-rom` and QEMU `-icount shift=0,sleep=off` (which "
                  "skips halted time as vmiemu does); not a workload of the summary, an "
                  "interrupt cost"}

PEERS = {  # name: (label in tables, short label for the chart)
    "vmiemu": ("vmiemu `--record`", "vmiemu --record"),
    "vmiemu-norom": ("vmiemu `--no-rom`", "vmiemu --no-rom"),
    "qemu-tcg": ("QEMU TCG", "QEMU TCG"),
    "qemu-icount": ("QEMU `-icount shift=0`", "QEMU -icount"),
    "qemu-rr": ("QEMU `-icount shift=0,rr=record`", "QEMU -icount rr=record"),
    "bochs": ("Bochs", "Bochs"),
    "vmiemu-norec": ("vmiemu, no recording", "vmiemu"),
    "vmiemu-nosnap": ("vmiemu `--snap-every 0` (so no recording)", "vmiemu --snap-every 0"),
    "vmiemu-log": ("vmiemu `--record` `--log FILE`", "vmiemu --log"),
    "unicorn": ("bare Unicorn, no hook (`bench/ucloop`)", "Unicorn"),
    "unicorn-hook": ("bare Unicorn + empty block hook", "Unicorn + hook"),
    "unicorn-call": ("bare Unicorn: loop + hook-trapped call (`ucloop call`)", "Unicorn + trapped call"),
    "qemu-icount-nosleep": ("QEMU `-icount shift=0,sleep=off`", "QEMU -icount sleep=off"),
}

# Goals of the benchmark issue: vmiemu (recording on) / peer, on every workload.
GOALS = [("qemu-rr", 1.0), ("qemu-tcg", 0.5), ("bochs", 10.0)]
CALL_GOAL_NS = 1000.0

# Peers that run their own loop, not the workload's kernel: no ratio to vmiemu.
OWN_LOOP = {
    "unicorn-call": "its own loop, not callloop: loop.elf's 6 instructions, a `call` and the "
                    "trapped slot's `ret` per call (see the per-event costs)",
}

# Where a peer's guest does not run the same instructions as vmiemu --no-rom for the same work.
NOT_COMPARABLE = {
    ("irqloop", "qemu-tcg"): "the PIT runs in real time under plain TCG (`pit=24`: one "
                             "interrupt per 20 µs of host time), so the guest spins a different, "
                             "unknown number of instructions per interrupt",
}


def label(peer):
    return PEERS.get(peer, (peer, peer))[0]


def read_results(path):
    """{(workload, peer): {iters: {rep: seconds}}}"""
    runs = defaultdict(lambda: defaultdict(dict))
    with open(path) as f:
        for line in f:
            if line.strip():
                w, peer, iters, rep, secs = line.rstrip("\n").split("\t")
                runs[(w, peer)][int(iters)][int(rep)] = float(secs)
    return runs


def read_sizes(path):
    """{(workload, peer, file): {iters: [bytes]}}"""
    sizes = defaultdict(lambda: defaultdict(list))
    with open(path) as f:
        for line in f:
            if line.strip():
                w, peer, iters, name, size = line.rstrip("\n").split("\t")
                sizes[(w, peer, name)][int(iters)].append(int(size))
    return sizes


def read_meta(path):
    meta, multi = {}, defaultdict(list)
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            meta[key] = value
            multi[key].append(value)
    return meta, multi


def fmt(x, digits=3):
    return "n/a" if x is None else f"{x:,.{digits}f}"


def sig(x):
    """x with about three significant digits."""
    if x is None:
        return "n/a"
    for limit, digits in ((10, 2), (100, 1)):
        if abs(x) < limit:
            return f"{x:,.{digits}f}"
    return f"{x:,.0f}"


def powers(x):
    """1e9 as 10^9; other numbers as they are."""
    e = 0
    while x >= 10 and x % 10 == 0:
        x, e = x / 10, e + 1
    return (f"10^{e}" if x == 1 else f"{x:g}·10^{e}") if e >= 3 else f"{x:g}"


def count(x):
    """An instruction count: at most two decimals (none from 10,000 on), no trailing zeros."""
    return f"{x:,.0f}" if x >= 10000 else f"{x:,.2f}".rstrip("0").rstrip(".")


def profile(meta, w, config):
    """vmiemu's per-iteration counts from its --log runs: (n1, n2, insns, {event: count})."""
    raw = meta.get(f"profile_{w}_{config}")
    if not raw:
        return None
    n1, n2, rest = raw.split(" ", 2)
    insns, events = None, {}
    for item in rest.split(";"):
        key, _, value = item.rpartition("=")
        if key == "insns":
            insns = float(value)
        elif key:
            events[key] = float(value)
    return int(n1), int(n2), insns, events


def uses_rom(peer):
    return peer.startswith("vmiemu") and peer != "vmiemu-norom"


def insns_per_unit(meta, w, peer):
    """Guest instructions per unit of work on PEER: vmiemu's own count, with the ROM or (every
    native peer: the same code) without it; None where it is not comparable."""
    if (w, peer) in NOT_COMPARABLE:
        return None
    if peer == "unicorn-call":
        return 8.0  # loop.elf's 6, the call, the slot (one instruction, as a ROM call is)
    if peer.startswith("unicorn"):
        return 6.0  # loop.elf's loop bytes
    p = profile(meta, w, "rom" if uses_rom(peer) else "norom")
    return p[2] if p else None


class Rate:
    """One peer on one workload: medians of the small and the big runs, and the rate of work
    from their difference."""

    def __init__(self, runs):
        self.ok = len(runs) >= 2
        if not self.ok:
            return
        self.small, self.big = min(runs), max(runs)
        ts, tb = runs[self.small], runs[self.big]
        self.t_small = statistics.median(ts.values())
        self.t_big = statistics.median(tb.values())
        self.dt = self.t_big - self.t_small
        work = self.big - self.small
        self.rate = work / self.dt if self.dt > 0 else None  # None: noise beat the work
        per_rep = [work / (tb[r] - ts[r]) for r in ts if r in tb and tb[r] > ts[r]]
        self.lo = min(per_rep) if per_rep else None
        self.hi = max(per_rep) if per_rep else None


def rates_of(runs, meta, w):
    out = {}
    for peer in meta.get("peers_" + w, "").split():
        r = Rate(runs[(w, peer)])
        if r.ok:
            out[peer] = r
    return out


def rate(rates, peer):
    r = rates.get(peer)
    return r.rate if r else None


def ratio(rates, peer):
    v, p = rate(rates, "vmiemu"), rate(rates, peer)
    return v / p if v and p else None


def mips(meta, w, peer, r):
    ins = insns_per_unit(meta, w, peer)
    return ins * r.rate / 1e6 if ins is not None and r is not None and r.rate else None


def workload_table(meta, w, rates):
    title, unit, what = WORKLOADS.get(w, (w, "iteration", f"`{w}.elf`"))
    out = [
        f"{what}{WHY.get(w, '')}. Guest instructions per {unit}: vmiemu's own count (ROM calls count as one), "
        "with the ROM for the vmiemu rows and from vmiemu `--no-rom` for every peer that runs "
        "the native code path.",
        "",
        f"| peer | N_small | N_big | t(small) s | t(big) s | t(big) − t(small) s | instructions/{unit} "
        f"| MIPS | {unit}s/s | {unit}s/s range | vmiemu/peer |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    notes = []
    for peer in meta.get("peers_" + w, "").split():
        r = rates.get(peer)
        if r is None:
            out.append(f"| {label(peer)} | | | | | | | | n/a | | |")
            continue
        ins = insns_per_unit(meta, w, peer)
        m = mips(meta, w, peer, r)
        mark = ""
        if (w, peer) in NOT_COMPARABLE:
            mark = "¹"
            notes.append(f"¹ {label(peer)}: no comparable instruction count: "
                         f"{NOT_COMPARABLE[(w, peer)]}. The ratio is the rate of {unit}s.")
        x = fmt(ratio(rates, peer), 2)
        if peer in OWN_LOOP:
            x = "—²"
            notes.append(f"² {label(peer)}: {OWN_LOOP[peer]}.")
        rng = "n/a" if r.lo is None else f"{sig(r.lo)}–{sig(r.hi)}"
        ins_text = "n/a" + mark if ins is None else count(ins)
        out.append(f"| {label(peer)} | {r.small:,} | {r.big:,} | {fmt(r.t_small)} | "
                   f"{fmt(r.t_big)} | {fmt(r.dt)} | {ins_text} | {sig(m)} | {sig(r.rate)} | "
                   f"{rng} | {x} |")
    if notes:
        out += [""] + notes
    return out


def overview(meta, all_rates):
    peers = meta["main_peers"].split()
    head = "| workload | " + " | ".join(label(p) for p in peers) + " |"
    rule = "|---|" + "---:|" * len(peers)
    t1 = ["Guest MIPS (instructions per unit of work as in the workload tables below; — where "
          "the count is not comparable or the run gave no rate):",
          "", head, rule]
    t2 = ["vmiemu `--record` / peer, the ratio of their rates of work (units of work per "
          "second) on the same work:", "", "| workload | " +
          " | ".join(label(p) for p in peers[1:]) + " |", "|---|" + "---:|" * (len(peers) - 1)]
    for w in meta["workloads"].split():
        rates = all_rates[w]
        cells = []
        for p in peers:
            m = mips(meta, w, p, rates.get(p))
            cells.append("—" if m is None else sig(m))
        t1.append(f"| {w} | " + " | ".join(cells) + " |")
        t2.append(f"| {w} | " + " | ".join(fmt(ratio(rates, p), 2) for p in peers[1:]) + " |")
    return t1 + [""] + t2


def call_cost(meta, all_rates):
    """ns per call-loop iteration with recording, and an estimate net of the loop's other
    instructions at vmiemu's loop rate: (ns, net ns or None, instructions per iteration)."""
    c = rate(all_rates.get("callloop", {}), "vmiemu")
    if not c:
        return None
    ns = 1e9 / c
    p = profile(meta, "callloop", "rom")
    lp = rate(all_rates.get("loop", {}), "vmiemu")
    if p and lp:
        loop_ns = 1e9 / (6 * lp)  # per instruction
        return ns, ns - (p[2] - 1) * loop_ns, p[2]
    return ns, None, p[2] if p else None


def trapped_call_floor(all_rates):
    """ns a hook-trapped call adds to bare Unicorn's loop (None without both rows)."""
    c = rate(all_rates.get("callloop", {}), "unicorn-call")
    h = rate(all_rates.get("loop", {}), "unicorn-hook")
    return 1e9 / c - 1e9 / h if c and h else None


def goals(meta, all_rates):
    out = [
        "Goals: with recording on, vmiemu's guest MIPS ≥ 1.0× QEMU `-icount shift=0,rr=record`, "
        "≥ 0.5× plain QEMU TCG and ≥ 10× Bochs on every workload, and ≤ 1 µs per recorded VMI "
        "call. Judged on the ratio of rates of work above, which is the MIPS ratio wherever "
        "both run the same instructions, and the fair one where they do not (a ROM call is one "
        "instruction to vmiemu, a few natively).",
        "",
        "| workload | " + " | ".join(f"vs {label(p)} (≥ {g:g}×)" for p, g in GOALS) + " |",
        "|---|" + "---|" * len(GOALS),
    ]
    met, missed = 0, []
    for w in meta["workloads"].split():
        cells = []
        for peer, goal in GOALS:
            x = ratio(all_rates[w], peer)
            if x is None:
                cells.append("no figure")
                missed.append(f"{w} vs {label(peer)} (no figure)")
            elif x >= goal:
                cells.append(f"{x:.2f}× met")
                met += 1
            else:
                cells.append(f"{x:.2f}× **not met**")
                missed.append(f"{w} vs {label(peer)}")
        out.append(f"| {w} | " + " | ".join(cells) + " |")
    cc = call_cost(meta, all_rates)
    out.append("")
    if cc is None:
        missed.append("ns per recorded VMI call (no figure)")
        out.append("- Recorded VMI call: no figure.")
    else:
        ns, net, ins = cc
        ok = ns <= CALL_GOAL_NS
        line = (f"- Recorded VMI call: {ns:,.0f} ns per call-loop iteration (one GetCycleCounter "
                f"call and {count(ins - 1)} other guest instructions) with `--record`: goal ≤ 1 µs "
                f"{'met' if ok else '**not met**'}")
        if net is not None:
            line += (f"; net of the other instructions at vmiemu's loop rate about "
                     f"{net:,.0f} ns per call "
                     f"({'within' if net <= CALL_GOAL_NS else 'over'} 1 µs)")
        out.append(line + ".")
        if ok:
            met += 1
        else:
            missed.append("ns per recorded VMI call")
    total = met + len(missed)
    out.append(f"- Met {met} of {total} goals" +
               (f"; not met: {', '.join(missed)}." if missed else "."))
    return out


def sizes_per_unit(sizes, w, peer, name, small, big):
    s = sizes.get((w, peer, name), {})
    if small in s and big in s and big > small:
        return (statistics.median(s[big]) - statistics.median(s[small])) / (big - small)
    return None


def tt_figures(multi):
    """timetravel_bench's `name value unit [rest]` lines: {name: (value, rest)}."""
    out = {}
    for line in multi.get("tt", []):
        parts = line.split(" ", 3)
        if len(parts) >= 3:
            try:
                out[parts[0]] = (float(parts[1]), parts[3] if len(parts) > 3 else "")
            except ValueError:
                pass
    return out


def per_event(meta, multi, all_rates, sizes):
    out = ["| event | cost | how |", "|---|---:|---|"]
    lp = rate(all_rates.get("loop", {}), "vmiemu")
    ns_insn = 1e9 / (6 * lp) if lp else None
    call = all_rates.get("callloop", {})
    cc = call_cost(meta, all_rates)
    if cc:
        ns, net, ins = cc
        out.append(f"| VMI call, recorded (GetCycleCounter) | {ns:,.0f} ns | vmiemu `--record`: "
                   f"one callloop iteration ({count(ins)} instructions by vmiemu's count, the ROM "
                   "call one of them): trap into the ROM, the call, its event in the in-memory "
                   "log and the record |")
        if net is not None:
            out.append(f"| VMI call, recorded, net of the loop | {net:,.0f} ns | the above "
                       f"minus {count(ins - 1)} instructions at vmiemu's loop rate "
                       f"({ns_insn:.2f} ns each) |")
    for peer, what in (("vmiemu-norec", "vmiemu without `--record` (the event still goes into "
                                        "the in-memory log)"),
                       ("vmiemu-log", "vmiemu `--record --log FILE`: also one JSON line per "
                                      "call to the file"),
                       ("vmiemu-norom", "vmiemu `--no-rom`: `rdtsc` in place of the call, for "
                                        "reference")):
        r = rate(call, peer)
        if r:
            out.append(f"| VMI call: {label(peer)} | {1e9 / r:,.0f} ns | {what}; per "
                       "iteration |")
    floor = trapped_call_floor(all_rates)
    if floor is not None:
        out.append(f"| VMI-style call on bare Unicorn: the floor | {floor:,.0f} ns | "
                   "`bench/ucloop call` per iteration minus `ucloop block` (the same loop "
                   "without the call) per iteration: the block hook traps a `call` into a "
                   "`ret` slot, reads EAX..EFLAGS in one batch and writes EDX:EAX; no count, "
                   "log or record. What any hypercall built on Unicorn 2.1.4's hooks costs |")
    q = rate(call, "qemu-rr")
    if q:
        out.append(f"| callloop iteration, natively (`rdtsc`): {label('qemu-rr')} | {1e9 / q:,.0f} ns "
                   "| the whole iteration, for reference |")
    v = call.get("vmiemu")
    if v:
        b = sizes_per_unit(sizes, "callloop", "vmiemu", "run.rec", v.small, v.big)
        if b is not None:
            out.append(f"| record bytes per VMI call | {b:,.1f} B | growth of the `--record` "
                       "file from N_small to N_big calls |")
    lg = call.get("vmiemu-log")
    if lg:
        b = sizes_per_unit(sizes, "callloop", "vmiemu-log", "events.jsonl", lg.small, lg.big)
        if b is not None:
            out.append(f"| `--log` bytes per VMI call | {b:,.1f} B | the same for the JSON "
                       "Lines file |")
    pv = rate(all_rates.get("pteloop", {}), "vmiemu")
    if pv:
        ns = 1e9 / pv
        p = profile(meta, "pteloop", "rom")
        extra = ""
        if p and ns_insn:
            extra = (f"; {count(p[2])} instructions per iteration: net of the other "
                     f"{count(p[2] - 4)} at vmiemu's loop rate {(ns - (p[2] - 4) * ns_insn) / 4:,.0f} "
                     "ns per call")
        out.append(f"| page-table update (SetPxE or InvalPage), recorded | {ns / 4:,.0f} ns | "
                   f"pteloop iteration / 4 calls{extra} |")
    for w, what in (("irqloop", "busy loop"), ("irqhalt", "Halt between ticks")):
        r = rate(all_rates.get(w, {}), "vmiemu")
        if not r:
            continue
        ns = 1e9 / r
        p = profile(meta, w, "rom")
        how = f"irqloop `{'spin' if w == 'irqloop' else 'halt'}`, vmiemu `--record`, per interrupt"
        if p:
            how += f" ({count(p[2])} instructions: {events_text(p[3])})"
        out.append(f"| delivered interrupt, {what} | {ns:,.0f} ns | {how} |")
        q = rate(all_rates.get(w, {}), "qemu-icount-nosleep")
        if q:
            out.append(f"| delivered interrupt, {what}: {label('qemu-icount-nosleep')} | "
                       f"{1e9 / q:,.0f} ns | the same kernel natively, PIT in virtual time |")
    tt = tt_figures(multi)

    def f(name):
        return tt[name][0] if name in tt else None

    total = None
    if "run_seconds" in tt:
        try:
            total = float(tt["run_seconds"][1].lstrip("(").split(" ", 1)[0])
        except ValueError:
            pass
    at = "n/a" if total is None else powers(total)
    if "snapshot_take_mean" in tt:
        out.append(f"| snapshot | {f('snapshot_take_mean'):.3f} ms | `timetravel_bench`: mean "
                   "of 100 snapshots taken in a row on the loop run, 128 MiB guest (little is "
                   "dirty between them) |")
    if f("snapshot_storage") is not None and f("snapshots") and total:
        per = f("snapshot_storage") * (1 << 20) * total / 1e9 / f("snapshots")
        out.append(f"| bytes per snapshot | {per / 1024:,.0f} KiB | the snapshot memory after "
                   f"{at} instructions of the loop run / its {f('snapshots'):g} snapshots "
                   f"({f('snapshot_storage'):g} MiB per 10^9 instructions); each holds the CPU and "
                   "device state and the guest pages written since the one before, compressed |")
    if "reverse_stepi_mean" in tt:
        out.append(f"| reverse-stepi at {at} instructions into a run | "
                   f"{f('reverse_stepi_mean'):.1f} ms (worst {f('reverse_stepi_worst'):.1f}) | "
                   "mean of 5: restore the nearest snapshot (every 10^7 instructions), run "
                   "forward |")
    if "goto_call_mean" in tt:
        out.append(f"| goto call N | {f('goto_call_mean'):.1f} ms (worst "
                   f"{f('goto_call_worst'):.1f}) | mean of 5, each going back through a callloop "
                   f"run {tt['goto_call_mean'][1].strip('()')} |")
    if "record_overhead_callloop" in tt:
        out.append(f"| recording overhead, callloop | {f('record_overhead_callloop'):.1f} % | "
                   "`timetravel_bench` in one process, with and without recording: "
                   f"{tt['record_overhead_callloop'][1].strip('()')} |")
    if "snapshot_overhead" in tt:
        out.append(f"| snapshot overhead, loop | {f('snapshot_overhead'):.1f} % | the loop run "
                   f"to {at} instructions with and without snapshots |")
    return out


def events_text(events):
    return ", ".join(f"{v:g} × {k}" for k, v in events.items())


def profiles(meta):
    out = []
    for w in meta["workloads"].split() + ["irqhalt"]:
        unit = WORKLOADS.get(w, (w, "iteration", ""))[1]
        for config, what in (("rom", "with the ROM"), ("norom", "`--no-rom`")):
            p = profile(meta, w, config)
            if p is None:
                continue
            n1, n2, insns, events = p
            ev = events_text(events) or "none"
            out.append(f"- {w}, {what}, per {unit} (`--log` runs at N={n1:,} and N={n2:,}): "
                       f"{count(insns)} instructions; events: {ev}.")
    return out


def chart(meta, all_rates, png):
    """Grouped bars: per workload, each main peer's rate of work relative to QEMU TCG."""
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        sys.exit("report.py: gnuplot not found: install gnuplot-nox")
    peers = meta["main_peers"].split()
    workloads = meta["workloads"].split()
    rows = []
    for w in workloads:
        tcg = rate(all_rates[w], "qemu-tcg")
        rows.append([rate(all_rates[w], p) / tcg if tcg and rate(all_rates[w], p) else None
                     for p in peers])
    values = [x for row in rows for x in row if x]
    lo = 10 ** math.floor(math.log10(min(values) / 1.5)) if values else 0.01
    hi = 10 ** math.ceil(math.log10(max(values) * 1.5)) if values else 10
    terms = subprocess.run([gnuplot, "-e", "set terminal"], capture_output=True, text=True)
    term = "pngcairo" if "pngcairo" in terms.stdout + terms.stderr else "png"
    font = ' font "sans,10"' if term == "pngcairo" else ""
    with tempfile.TemporaryDirectory() as d:
        dat = os.path.join(d, "chart.dat")
        with open(dat, "w") as f:
            f.write("workload " + " ".join(f'"{PEERS[p][1]}"' for p in peers) + "\n")
            for w, row in zip(workloads, rows):
                f.write(f'"{w}" ' + " ".join("NaN" if x is None else f"{x:.6g}" for x in row)
                        + "\n")
        plots = ", ".join(
            f"'{dat}' using {i + 2}:xtic(1) title columnheader({i + 2})" for i in range(len(peers)))
        script = f"""
set terminal {term} size 1000,560{font}
set output '{png}'
set title "Rate of work relative to plain QEMU TCG, per workload (higher is faster; log scale)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set yrange [{lo:g}:{hi:g}]
set xrange [-0.6:{len(workloads) - 0.4}]
set grid ytics
set ylabel "work rate / QEMU TCG's"
set key top center horizontal outside
set datafile missing "NaN"
plot {plots}, 1 with lines lc rgb "black" dt 2 notitle
"""
        res = subprocess.run([gnuplot], input=script, capture_output=True, text=True)
        if res.returncode != 0:
            sys.exit(f"report.py: gnuplot failed: {res.stderr.strip()}")


def report(runs, sizes, meta, multi, chart_link):
    quick = meta["quick"] == "1"
    lines = [
        f"Run {meta['date']} with `{meta['invocation']}`"
        f"{' (quick smoke test: timings meaningless)' if quick else ''}.",
        "",
        "**Machine:** " + meta["machine"] + "  ",
        "**Load average** (1/5/15 min) before: " + meta["load_before"] + "; after: " +
        meta["load_after"] + "  ",
        "**Versions:** " + "; ".join(multi["version"]),
        "",
        "Method: every peer runs every workload at a small and a big iteration count N "
        f"(N_big chosen per peer so that t(big) − t(small) ≈ {meta['target']} s); the rate of "
        "work is (N_big − N_small) / (t(big) − t(small)), so boot and start-up cancel out; "
        f"times are medians of {meta['reps']} repetition(s), wall clock. MIPS = instructions "
        "per unit of work × that rate. **vmiemu/peer = vmiemu's rate of work / the peer's**, "
        "for the same work (the same kernel and N); above 1 vmiemu is faster. vmiemu runs in "
        "its default configuration plus `--record FILE` (snapshots every 10^7 instructions, the "
        "event log in memory); QEMU and Bochs run the same ELF on its native code path (no "
        "ROM), which is also what vmiemu `--no-rom` runs, so their instruction counts are "
        "vmiemu `--no-rom`'s.",
        "",
    ]
    all_rates = {w: rates_of(runs, meta, w) for w in meta["workloads"].split() + ["irqhalt"]}
    lines += ["### Summary", ""] + overview(meta, all_rates) + [""]
    if chart_link:
        lines += [f"![Rate of work relative to QEMU TCG per workload and peer]({chart_link})", ""]
    lines += goals(meta, all_rates) + [""]
    for w in meta["workloads"].split():
        title, unit, _ = WORKLOADS.get(w, (w, "iteration", ""))
        lines += [f"### {w}: {title}", ""] + workload_table(meta, w, all_rates[w]) + [""]
    lines += ["### Per-event costs", ""]
    lines += per_event(meta, multi, all_rates, sizes) + [""]
    lines += ["Interrupts with Halt between ticks (the row above):", ""]
    lines += workload_table(meta, "irqhalt", all_rates["irqhalt"]) + [""]
    lines += ["### Guest instructions per unit of work, by vmiemu's count", ""]
    lines += profiles(meta) + [""]
    lines += ["### Checks", ""] + [f"- {c}" for c in multi["check"]]
    lines += [
        "", "### Exact commands", "",
        "Run from the repository root; `N` is the iteration count, `$TMP` a scratch folder "
        "(`mktemp -d`; each workload's record, log and rr files go into a subfolder of it). "
        "`$TMP/bin/` holds copies of `build/release/vmiemu`, "
        "`build/release/timetravel_bench` and the kernels taken right after the build, so a "
        "concurrent rebuild cannot change them mid-run. Every command is run under `timeout "
        f"{meta['timeout']}` and must exit with status 33 (`ucloop`: 0); the record, log and "
        "rr files are deleted after each run.", "", "```sh"]
    lines += multi["command"]
    lines += [
        "```", "",
        "Before the timed runs each command runs once at the same N for every peer of a "
        "workload with its serial port captured (`file:PATH`, Bochs `--serial PATH`, `ucloop` "
        "its stdout) to check its output (above); in those runs vmiemu without `--record` and "
        "vmiemu `--no-rom` also get `--log FILE`, and one more run of each at N_small with "
        "`--log FILE` gives the instruction counts from the difference (`bench/logstats.py`)" +
        ("." if quick else "; then each peer's N_big is calibrated from its verification run, "
         "a run at N_small and, where the difference was under 0.8 s, longer runs, then run "
         "and corrected (up to 3 times) until its difference from N_small is within a factor "
         "of 2 of the target.")]
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
    args, opts = [], {}
    it = iter(argv[1:])
    for a in it:
        if a in ("--chart", "--doc"):
            opts[a] = next(it, None)
            if opts[a] is None:
                sys.exit(f"report.py: {a} needs a file")
        else:
            args.append(a)
    if len(args) != 3:
        sys.exit("usage: report.py RESULTS.tsv SIZES.tsv META.tsv [--chart PNG] [--doc FILE]")
    runs = read_results(args[0])
    sizes = read_sizes(args[1])
    meta, multi = read_meta(args[2])
    all_rates = {w: rates_of(runs, meta, w) for w in meta["workloads"].split()}
    link = None
    if "--chart" in opts:
        chart(meta, all_rates, opts["--chart"])
        if "--doc" in opts:
            link = os.path.relpath(opts["--chart"], os.path.dirname(opts["--doc"]) or ".")
    block = report(runs, sizes, meta, multi, link)
    print("\n".join(block))
    if "--doc" in opts:
        write_doc(opts["--doc"], block)


if __name__ == "__main__":
    main(sys.argv)
