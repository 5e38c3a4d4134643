# Shared by tests/native_qemu.sh and tests/native_bochs.sh (sourced, not run): the caller sets
# `dir` and defines `boot KERNEL CMDLINE`, which boots one kernel natively and prints its serial
# output. `check NAME CMDLINE EXPECTED...` wants exit status 33 (PASS) and every EXPECTED text;
# `finish` prints the tally and fails if anything did.
failed=0 passed=0

check() {
    local name=$1 cmdline=$2 out status ok=1
    shift 2
    out=$(boot "$dir/$name.elf" "$cmdline" </dev/null 2>&1)
    status=$?
    [ "$status" -eq 33 ] || { echo "FAIL $name ($cmdline): exit status $status, want 33"; ok=0; }
    for want in "$@"; do
        grep -qF -- "$want" <<<"$out" || { echo "FAIL $name ($cmdline): output lacks '$want'"; ok=0; }
    done
    if [ $ok -eq 1 ]; then
        passed=$((passed + 1))
        echo "ok   $name ($cmdline)"
    else
        failed=$((failed + 1))
        echo "$out" | sed 's/^/     | /'
    fi
}

finish() {
    echo "$passed passed, $failed failed"
    [ $failed -eq 0 ]
}
