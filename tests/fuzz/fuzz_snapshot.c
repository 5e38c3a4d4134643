/* Snapshots and their restore (the state a snapshot holds is read back into the machine), as
 * the debugger drives them, with an oracle: the machine is deterministic, so whenever it
 * stands at an instruction count it stood at before, its state hash must be the one it had
 * then, whichever way it got there (forward, a restore and a re-run, a goto).
 *
 * The input is a list of operations on hello (snapshots every 1000 instructions), two bytes
 * each: an opcode and an argument a, scaled:
 *   0 stepi a*97+1   1 reverse-stepi a*97+1   2 goto icount a*400   3 take a snapshot
 *   4 restore the snapshot a mod count   5 goto the a-th VMI call
 * A state hash that differs at the same instruction count aborts (a determinism bug). */
#include <stdio.h>
#include <stdlib.h>

#include "emu/debug.h"
#include "emu/snapshot.h"
#include "fuzzutil.h"

#define MAX_OPS 24
#define MAX_INSNS 120000u
#define SEEN 64

typedef struct seen_state {
    uint64_t icount, hash;
} seen_state;

static void check(machine *m, seen_state *seen, unsigned *nseen)
{
    uint64_t at = machine_insns(m), hash = machine_state_hash(m);
    for (unsigned i = 0; i < *nseen; i++) {
        if (seen[i].icount == at) {
            if (seen[i].hash != hash) {
                fprintf(stderr, "fuzz_snapshot: state at icount %llu differs from before\n", (unsigned long long)at);
                abort();
            }
            return;
        }
    }
    if (*nseen < SEEN)
        seen[(*nseen)++] = (seen_state){at, hash};
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static machine m;
    fz_boot_hello(&m, 4, 1000, MAX_INSNS);
    dbg d;
    dbg_init(&d, &m);
    seen_state seen[SEEN];
    unsigned nseen = 0;
    fz_cursor c = {data, size, 0};
    for (unsigned op = 0; op < MAX_OPS && !fz_done(&c); op++) {
        uint8_t code = fz_u8(&c) % 6, a = fz_u8(&c);
        vm_error err = {0};
        dbg_stop why = DBG_STOPPED;
        switch (code) {
        case 0: why = dbg_stepi(&d, a * 97u + 1, &err); break;
        case 1: why = dbg_reverse_stepi(&d, a * 97u + 1, &err); break;
        case 2: why = dbg_goto(&d, a * 400u, &err); break;
        case 3: why = snap_take(&m, &err) ? DBG_STOPPED : DBG_FAILED; break;
        case 4:
            if (snap_count(&m) > 0)
                why = dbg_goto(&d, snap_insns(&m, a % snap_count(&m)), &err);
            break;
        default: why = dbg_goto_call(&d, a, &err); break;
        }
        (void)why;
        check(&m, seen, &nseen);
    }
    machine_free(&m);
    return 0;
}
