/* Snapshots and going back in time.
 *
 * A snapshot is the CPU state (vcpu_save_state), the machine's plain-data device state, the
 * event-log position, and the guest pages written since the previous snapshot, each zlib
 * compressed (mmu/dirty.c finds them). Restoring snapshot k rewrites exactly the pages written
 * since k, each from the latest snapshot at or before k that holds it. goto(N) restores the
 * nearest snapshot at or before N and runs forward to exactly N; since the machine is
 * deterministic, that is the state the run had at N. */
#ifndef VMIEMU_SNAPSHOT_H
#define VMIEMU_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/error.h"

struct machine;

/* Take snapshots every `every` instructions from now on (and one now). */
VM_MUST_CHECK bool snap_enable(struct machine *m, uint64_t every, vm_error *err);
void snap_disable(struct machine *m);
/* Drop all snapshots and start again from the present (after a power-on). */
void snap_forget(struct machine *m);

/* The instruction count at which the next automatic snapshot is due: automatic snapshots are
 * every `every` instructions from the first (at power-on), also when others were taken in
 * between (snap_take on the user's request). */
uint64_t snap_next_due(const struct machine *m);

/* Take a snapshot of the present. */
VM_MUST_CHECK bool snap_take(struct machine *m, vm_error *err);

/* Go to exactly `insns` instructions since power-on: back through a snapshot, or forward by
 * running. Fails (state unchanged) if no snapshot lies at or before a past target. */
VM_MUST_CHECK bool snap_goto(struct machine *m, uint64_t insns, vm_error *err);

size_t snap_count(const struct machine *m);
/* The instruction count of snapshot i. */
uint64_t snap_insns(const struct machine *m, size_t i);
/* Bytes held by all snapshots. */
size_t snap_bytes(const struct machine *m);
/* True once the snapshots have passed --snap-mem and thinning has begun. */
bool snap_thinned(const struct machine *m);
/* Snapshot entries thinning has examined or moved so far (for tests: amortised O(1) each). */
uint64_t snap_thin_work(const struct machine *m);

/* A hash of everything the machine is: CPU state, RAM, devices, clock. */
uint64_t machine_state_hash(struct machine *m);

/* Write everything but memory (registers, clock, TLB, devices, the ROM's state) field by field
 * to w (emu/state_ser.h): the stream a snapshot's digest hashes. */
struct state_writer;
void snap_serialise_state(struct machine *m, struct state_writer *w);

#endif
