#!/usr/bin/env bash
# The max CPU model is as deterministic as the default one: the kvm-unit-tests kernels that use
# its features (tsc: RDTSCP; tsc_adjust; smap: SMAP, SMEP, stac/clac; umip; pku; memory:
# CLFLUSHOPT, CLWB; tscdeadline_latency: the APIC TSC-deadline timer; apic: x2APIC mode, its
# MSRs and self IPIs) are each recorded with --cpu max, then replayed without naming the model
# (the record does): the replay must match the record, end with the same status and print the
# same console output. A replay told --cpu coreduo is refused (status 2) before it runs.
# usage: test_cpu_max_replay.sh VMIEMU SOURCE_DIR; exit 77 without the shared guests
# ($VMIEMU_GUESTS/kvm-unit-tests, else SOURCE_DIR/../shared/guests/kvm-unit-tests).
set -u
vmiemu=$(realpath "$1") src=$(realpath "$2")
guests=${VMIEMU_GUESTS:-$src/../shared/guests}/kvm-unit-tests
if [ ! -d "$guests/x86" ]; then
    echo "SKIPPED: no kvm-unit-tests in $guests; set VMIEMU_GUESTS to the shared guest directory"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for t in tsc tsc_adjust smap umip pku memory tscdeadline_latency apic; do
    rec=$tmp/$t.vmr
    (cd "$guests" && "$vmiemu" --cpu max --serial "file:$tmp/$t.rec.out" --snap-every 100000 \
        --max-insns 300000000 --record "$rec" "x86/$t.flat" </dev/null 2>"$tmp/$t.rec.err")
    rc_rec=$?
    (cd "$guests" && "$vmiemu" --serial "file:$tmp/$t.rep.out" --replay "$rec" "x86/$t.flat" \
        </dev/null 2>"$tmp/$t.rep.err")
    rc_rep=$?
    (cd "$guests" && "$vmiemu" --cpu coreduo --serial none --replay "$rec" "x86/$t.flat" \
        </dev/null 2>"$tmp/$t.wrong.err")
    rc_wrong=$?
    passes=$(grep -c '^PASS' "$tmp/$t.rec.out")
    if [ "$rc_rep" != "$rc_rec" ] || ! grep -q "replay matched the record" "$tmp/$t.rep.err" ||
        ! cmp -s "$tmp/$t.rec.out" "$tmp/$t.rep.out" || [ "$passes" -eq 0 ] || [ "$rc_wrong" != 2 ] ||
        ! grep -q "CPU model (--cpu" "$tmp/$t.wrong.err"; then
        echo "$t: record rc $rc_rec, replay rc $rc_rep, wrong-model replay rc $rc_wrong, $passes PASS lines"
        tail -3 "$tmp/$t.rep.err" "$tmp/$t.wrong.err"
        fail=1
    else
        echo "$t: recorded (rc $rc_rec, $passes PASS lines) and replayed identically; coreduo refused"
    fi
done
exit $fail
