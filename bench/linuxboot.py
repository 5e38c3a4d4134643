#!/usr/bin/env python3
"""The `linux` workload of scripts/bench.sh: times a guest boot, and reports the timings.

    bench/linuxboot.py time [--mark TEXT] [--out FILE] [--timeout S] -- CMD...
    bench/linuxboot.py report TIMES.tsv META.tsv [--log LOG.jsonl] [--doc FILE]

`time` runs CMD and prints one line `to_mark<TAB>to_end<TAB>status<TAB>cpu`: the wall seconds
from just before the process starts to the first output line (stdout and stderr together)
containing MARK (default VMI-LINUX-OK; `-` if it never appeared), to the end of the run, the
exit status, and the CPU seconds (user + system, all threads) of the whole run. The output goes to FILE. After --timeout seconds (default 600) the process
is killed (status -9).

`report` turns TIMES.tsv (lines `peer<TAB>label<TAB>rep<TAB>to_mark<TAB>to_end<TAB>status<TAB>cpu`)
and META.tsv (`key<TAB>value`: date, invocation, load_before, load_after, command) into a
Markdown section: medians per peer, the ratio to QEMU TCG, and with --log the VMI calls and
exceptions by kind and the instructions (from the event log's end event) of one vmiemu boot.
--doc FILE: replace the block between the `linux` markers of FILE instead of printing.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter

BEGIN = "<!-- bench.sh: BEGIN linux -->"
END = "<!-- bench.sh: END linux -->"


def cmd_time(a):
    mark = a.mark.encode()
    to_mark = None
    start = time.monotonic()
    with open(a.out, "wb") as out:
        p = subprocess.Popen(a.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        watchdog = threading.Timer(a.timeout, p.kill)
        watchdog.start()
        for line in p.stdout:
            if to_mark is None and mark in line:
                to_mark = time.monotonic() - start
            out.write(line)
        # the child's CPU time (all its threads), which other jobs on the machine inflate less
        # than the wall time
        _, wstatus, usage = os.wait4(p.pid, 0)
        p.returncode = status = os.waitstatus_to_exitcode(wstatus)
        watchdog.cancel()
    to_end = time.monotonic() - start
    print("%s\t%.4f\t%d\t%.4f" % ("-" if to_mark is None else "%.4f" % to_mark, to_end, status,
                                  usage.ru_utime + usage.ru_stime))
    return 0


def count_log(path):
    """VMI calls by name, exceptions by vector and the end event's instruction count."""
    calls, excs, end = Counter(), Counter(), None
    with open(path) as f:
        for line in f:
            ev = json.loads(line)
            kind = ev.get("kind")
            if kind == "vmi":
                calls[ev.get("call", "?")] += 1
            elif kind == "exception":
                excs[ev.get("vector")] += 1
            elif kind == "end":
                end = ev
    return calls, excs, end


def fmt_s(x):
    return "—" if x is None else "%.2f" % x


def cmd_report(a):
    meta = {}
    commands = []
    with open(a.meta) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            if k == "command":
                commands.append(v)
            else:
                meta[k] = v
    peers, marks, ends, cpus, failed = [], {}, {}, {}, {}
    with open(a.times) as f:
        for line in f:
            peer, label, _rep, to_mark, to_end, status, cpu = line.rstrip("\n").split("\t")
            if (peer, label) not in peers:
                peers.append((peer, label))
            if status != "0" or to_mark == "-":
                failed[peer] = failed.get(peer, 0) + 1
                continue
            marks.setdefault(peer, []).append(float(to_mark))
            ends.setdefault(peer, []).append(float(to_end))
            cpus.setdefault(peer, []).append(float(cpu))
    med = {p: statistics.median(v) for p, v in marks.items()}
    med_end = {p: statistics.median(v) for p, v in ends.items()}
    med_cpu = {p: statistics.median(v) for p, v in cpus.items()}
    tcg = med.get("qemu-tcg")
    tcg_cpu = med_cpu.get("qemu-tcg")
    out = []
    out.append("Run %s with `%s`; load average (1/5/15 min) before: %s, after: %s."
               % (meta.get("date", "?"), meta.get("invocation", "?"),
                  meta.get("load_before", "?"), meta.get("load_after", "?")))
    out.append("")
    out.append("Wall seconds from the start of the process to the serial line `VMI-LINUX-OK` "
               "(the guest's /init is done; what follows is the ACPI power-off, which every "
               "peer here does too: the \"to the end\" column), medians of %s repetition(s), "
               "the peers run one after the other in each repetition. **peer/QEMU TCG** is the "
               "time to VMI-LINUX-OK over QEMU TCG's (below 1 is faster than QEMU TCG). CPU s: "
               "the CPU time (user + system, all threads) of the whole run, to the end, which "
               "other jobs on the machine inflate less than the wall time; its ratio is the "
               "last column."
               % meta.get("reps", "?"))
    out.append("")
    out.append("| peer | to VMI-LINUX-OK s | range s | to the end s | peer/QEMU TCG "
               "| CPU s | CPU peer/QEMU TCG |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    for peer, label in peers:
        if peer not in med:
            out.append("| %s | failed (%d run(s)) | | | | | |" % (label, failed.get(peer, 0)))
            continue
        ratio = "%.2f" % (med[peer] / tcg) if tcg else "—"
        cpu_ratio = "%.2f" % (med_cpu[peer] / tcg_cpu) if tcg_cpu else "—"
        out.append("| %s | %s | %s–%s | %s | %s | %s | %s |"
                   % (label, fmt_s(med[peer]), fmt_s(min(marks[peer])), fmt_s(max(marks[peer])),
                      fmt_s(med_end[peer]), ratio, fmt_s(med_cpu[peer]), cpu_ratio))
    out.append("")
    if commands:
        out.append("Commands (`$G` = the guest folder, `$TMP` a scratch folder):")
        out.append("")
        out.append("```sh")
        out.extend(commands)
        out.append("```")
        out.append("")
    if a.log:
        calls, excs, end = count_log(a.log)
        insns = end.get("icount") if end else None
        total = sum(calls.values())
        out.append("One boot with the ROM (`vmiemu --log FILE`, same files): %s guest "
                   "instructions to the power-off (a ROM call counts as one), %s VMI calls, "
                   "%s exceptions and interrupts delivered."
                   % ("{:,}".format(insns) if insns is not None else "?", "{:,}".format(total),
                      "{:,}".format(sum(excs.values()))))
        out.append("")
        out.append("| VMI call | calls | share |")
        out.append("|---|---:|---:|")
        for name, n in calls.most_common():
            out.append("| %s | %s | %.2f%% |" % (name, "{:,}".format(n), 100.0 * n / total))
        out.append("")
        out.append("| exception or interrupt vector | deliveries |")
        out.append("|---|---:|")
        for vec, n in excs.most_common():
            out.append("| %s | %s |" % (vec, "{:,}".format(n)))
        out.append("")
    text = "\n".join(out)
    if not a.doc:
        print(text)
        return 0
    with open(a.doc) as f:
        doc = f.read()
    i, j = doc.find(BEGIN), doc.find(END)
    if i < 0 or j < i:
        print("linuxboot.py: %s has no %s ... %s block" % (a.doc, BEGIN, END), file=sys.stderr)
        return 1
    doc = doc[:i + len(BEGIN)] + "\n" + text + "\n" + doc[j:]
    with open(a.doc, "w") as f:
        f.write(doc)
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="what", required=True)
    t = sub.add_parser("time")
    t.add_argument("--mark", default="VMI-LINUX-OK")
    t.add_argument("--out", default="/dev/null")
    t.add_argument("--timeout", type=float, default=600.0)
    t.add_argument("cmd", nargs="+")
    r = sub.add_parser("report")
    r.add_argument("times")
    r.add_argument("meta")
    r.add_argument("--log")
    r.add_argument("--doc")
    a = ap.parse_args()
    return cmd_time(a) if a.what == "time" else cmd_report(a)


if __name__ == "__main__":
    sys.exit(main())
