#!/usr/bin/env bash
# vmiemu-regress, the regression-replay suite runner: finds kernels by hash beside records and
# under --kernels, judges each replay (match, divergence, bad record, kernel missing), writes
# JUnit XML, shards (also as docs/SCALE.md's Slurm script and Kubernetes Job run them) and
# merges shard reports, shows progress only on a terminal.
# Usage: tests/test_regress.sh VMIEMU_REGRESS VMIEMU KERNEL_DIR GUEST_DIR DOCS_SCALE_DIR
set -uo pipefail
regress=${1:?usage}; vmiemu=${2:?usage}; kernels=${3:?usage}; guests=${4:?usage}; scale=${5:?usage}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

# The suite: records in two folders; kernels beside one of them and in a kernels folder; a
# record whose replay diverges (the wrapper below swaps its kernel for a variant), one with junk
# appended, one whose kernel is nowhere.
suite=$tmp/suite kdir=$tmp/kernels
mkdir -p "$suite/a" "$suite/b/c" "$kdir"
cp "$kernels/hello.elf" "$kernels/paging.elf" "$kdir/"
cp "$kernels/linuxlike.elf" "$suite/b/c/"
cp "$guests/diverge.elf" "$kdir/"
record() { "$vmiemu" --serial none --record "$1" "${@:2}" >/dev/null 2>&1; }
record "$suite/a/hello.rec" "$kernels/hello.elf"
record "$suite/a/paging.rec" "$kernels/paging.elf"
record "$suite/b/c/linuxlike.rec" "$kernels/linuxlike.elf"
record "$suite/b/diverge.rec" "$guests/diverge.elf"
cp "$suite/a/hello.rec" "$suite/a/junk.rec"; echo junk >>"$suite/a/junk.rec"
cp "$kernels/loop.elf" "$tmp/gone.elf"; record "$suite/nokernel.rec" --append iters=10 "$tmp/gone.elf"; rm "$tmp/gone.elf"
wrapper=$tmp/vmiemu-variant
cat >"$wrapper" <<WRAP
#!/usr/bin/env bash
# vmiemu, but diverge.elf replays as diverge_variant.elf (one instruction changed)
args=(); for a in "\$@"; do [[ \$a == */diverge.elf ]] && args+=("$guests/diverge_variant.elf") || args+=("\$a"); done
[[ "\$*" == */diverge.elf ]] && args=(--replay-any-kernel "\${args[@]}")
exec "$vmiemu" "\${args[@]}"
WRAP
chmod +x "$wrapper"

"$regress" -j 2 -k "$kdir" --vmiemu "$wrapper" --junit "$tmp/all.xml" "$suite" >"$tmp/out" 2>"$tmp/err"
rc=$?
cat "$tmp/out"
check "a suite with failures exits 1" '[ $rc -eq 1 ]'
check "the summary counts each verdict" 'grep -q "6 records: 3 passed, 1 failed, 2 errors" "$tmp/out"'
check "a divergence is a failure with vmiemu's report" 'grep -q "^FAIL  b/diverge.rec: vmiemu: replay diverged at icount" "$tmp/out"'
check "junk after the end entry is an error" 'grep -q "^ERROR a/junk.rec: .*goes on after its end entry" "$tmp/out"'
check "a kernel found nowhere is an error naming its size and hash" 'grep -q "^ERROR nokernel.rec: no kernel of [0-9]* bytes with the recorded hash" "$tmp/out"'
check "no progress line when stderr is not a terminal" '! grep -q "replayed" "$tmp/err"'
check "the JUnit report is well-formed XML" 'xmllint --noout "$tmp/all.xml"'
junit() { # FILE: "tests failures errors" and the testcase names, from the XML
    python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = root.findall('.//testcase')
fails = [c for c in cases if c.find('failure') is not None]
errs = [c for c in cases if c.find('error') is not None]
assert root.tag == 'testsuites' and root.get('tests') == str(len(cases)), 'counts on the root'
assert root.get('failures') == str(len(fails)) and root.get('errors') == str(len(errs)), 'failure counts'
for c in fails:
    assert 'expected:' in c.find('failure').text, 'a failure holds the first-divergence report'
print(len(cases), len(fails), len(errs), ' '.join(sorted(c.get('name') for c in cases)))
PY
}
all=$(junit "$tmp/all.xml")
check "the report has a testcase per record, the divergence report in its failure" '[ "${all%% a/*}" = "6 1 2" ]'

"$regress" -j 2 -k "$kdir" --junit "$tmp/s0.xml" --shard 0/2 "$suite" >"$tmp/s0.out" 2>&1
"$regress" -j 2 -k "$kdir" --junit "$tmp/s1.xml" --shard 1/2 "$suite" >"$tmp/s1.out" 2>&1
"$regress" --merge "$tmp/merged.xml" "$tmp/s0.xml" "$tmp/s1.xml"
s0=$(junit "$tmp/s0.xml"); s1=$(junit "$tmp/s1.xml"); merged=$(junit "$tmp/merged.xml")
check "two shards split the records" '[ "${s0%% *}" = 3 ] && [ "${s1%% *}" = 3 ]'
check "merged shard reports hold every record once" '[ "${merged#* * * }" = "${all#* * * }" ]'
check "merged counts are the sums (the divergence passes with the real kernel)" '[ "${merged%% a/*}" = "6 0 2" ]'

# docs/SCALE.md's Slurm script, run as array tasks 0..2 of 3, and the Kubernetes Job's args for
# indexes 0..3 of its 4 completions; each merged report equals the unsharded run's records.
for i in 0 1 2; do
    SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_COUNT=3 SLURM_CPUS_PER_TASK=1 RECORDS=$suite KERNELS=$kdir \
        RESULTS=$tmp/slurm VMIEMU_REGRESS=$regress bash "$scale/regress.sbatch" >/dev/null 2>&1
done
"$regress" --merge "$tmp/slurm.xml" "$tmp"/slurm/junit-*.xml
slurm=$(junit "$tmp/slurm.xml")
check "the Slurm array's shards merge to every record" '[ "${slurm#* * * }" = "${all#* * * }" ]'
mkdir -p "$tmp/k8s/results"; ln -s "$suite" "$tmp/k8s/suite"; ln -s "$kdir" "$tmp/k8s/kernels"
completions=$(sed -n 's/^  completions: *\([0-9]*\).*/\1/p' "$scale/regress-job.yaml")
for ((i = 0; i < completions; i++)); do
    mapfile -t args < <(python3 - "$scale/regress-job.yaml" "$i" "$tmp/k8s" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
args = json.loads(re.search(r'^\s*args: (\[.*\])$', text, re.M).group(1))
for a in args:
    print(a.replace('$(JOB_COMPLETION_INDEX)', sys.argv[2]).replace('/records', sys.argv[3]))
PY
)
    "$regress" "${args[@]}" >/dev/null 2>&1
done
"$regress" --merge "$tmp/k8s.xml" "$tmp"/k8s/results/junit-*.xml
k8s=$(junit "$tmp/k8s.xml")
check "the Kubernetes Job's $completions indexes merge to every record" '[ "${k8s#* * * }" = "${all#* * * }" ]'

mkdir -p "$tmp/good"; cp "$suite/a/hello.rec" "$suite/a/paging.rec" "$tmp/good/"
"$regress" -k "$kdir" "$tmp/good" >"$tmp/good.out" 2>&1
check "a suite that replays exits 0" '[ $? -eq 0 ] && grep -q "2 records: 2 passed, 0 failed, 0 errors" "$tmp/good.out"'
script -qec "$regress -j 1 -k $kdir $tmp/good" /dev/null >"$tmp/tty.out" 2>&1
check "on a terminal a progress line shows and is erased" 'grep -q "replayed" "$tmp/tty.out" && grep -q "2 passed" "$tmp/tty.out"'

printf '#!/bin/sh\nexec sleep 60\n' >"$tmp/hang"; chmod +x "$tmp/hang"
"$regress" -k "$kdir" --vmiemu "$tmp/hang" --timeout 1 "$tmp/good" >"$tmp/hang.out" 2>&1
check "a replay past --timeout is stopped and is an error" '[ $? -eq 1 ] && grep -q "^ERROR a*.*timed out" "$tmp/hang.out" && grep -q "0 passed, 0 failed, 2 errors" "$tmp/hang.out"'

mkdir -p "$tmp/empty"
for bad_args in "$tmp/empty" "$tmp/nowhere" "--shard 2/2 $suite" "--shard 1 $suite" "-j 0 $suite" "-j ' 2' $suite" "--merge $tmp/x.xml $tmp/out"; do
    eval "\"$regress\" $bad_args" >"$tmp/bad.out" 2>&1
    rc=$?
    check "bad usage ($bad_args) exits 2 with a message" '[ $rc -eq 2 ] && grep -q "vmiemu-regress" "$tmp/bad.out"'
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
