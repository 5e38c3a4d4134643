#!/usr/bin/env python3
"""What one iteration of a benchmark kernel costs in vmiemu's own counts, from two --log runs.

Usage: logstats.py N1 LOG1.jsonl N2 LOG2.jsonl
       logstats.py LOG.jsonl

LOGi is vmiemu's JSON Lines event log (--log) of a run with iters=Ni (N2 > N1). Both must end
with an "end" event. Prints tab-separated lines, per iteration = (count in LOG2 - count in LOG1)
/ (N2 - N1), so whatever the kernel does once cancels out:

    insns<TAB>X            guest instructions (the end event's icount; a ROM call counts 1)
    event<TAB>NAME<TAB>X   events of one kind: "vmi CALLNAME" or "exception VECTOR"

Only event kinds whose per-iteration count is non-zero are printed, most frequent first.
With one log, the same lines give that run's totals (instructions and events).
Exits 1 with a message on stderr if a log has no end event.
"""
import json
import sys
from collections import Counter


def read(path):
    counts = Counter()
    end = None
    with open(path) as f:
        for line in f:
            ev = json.loads(line)
            kind = ev.get("kind")
            if kind == "vmi":
                counts["vmi " + ev.get("call", "?")] += 1
            elif kind == "exception":
                counts[f"exception {ev.get('vector', '?')}"] += 1
            elif kind == "end":
                end = ev
            else:
                counts[kind] += 1
    if end is None:
        sys.exit(f"logstats: {path} has no end event")
    return end["icount"], counts


def main(argv):
    if len(argv) == 2:
        insns, counts = read(argv[1])
        print(f"insns\t{insns}")
        for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"event\t{k}\t{v}")
        return
    if len(argv) != 5:
        sys.exit("usage: logstats.py N1 LOG1.jsonl N2 LOG2.jsonl | logstats.py LOG.jsonl")
    n1, n2 = int(argv[1]), int(argv[3])
    if n2 <= n1:
        sys.exit("logstats: N2 must be larger than N1")
    i1, c1 = read(argv[2])
    i2, c2 = read(argv[4])
    dn = n2 - n1
    print(f"insns\t{(i2 - i1) / dn:.2f}")
    per = {k: (c2[k] - c1[k]) / dn for k in set(c1) | set(c2)}
    for k, v in sorted(per.items(), key=lambda kv: (-kv[1], kv[0])):
        if v != 0:
            print(f"event\t{k}\t{v:.2f}")


if __name__ == "__main__":
    main(sys.argv)
