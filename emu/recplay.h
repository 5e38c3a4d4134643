/* Record and replay, side by side: recording writes every VMI call and guest marker (with the
 * registers; the record format codes what changed since the call before, emu/record.h) but the
 * interrupt-flag calls, which a replay reproduces by itself and are only counted, a
 * state digest at every snapshot, and how the run ended; replay runs the same kernel with the
 * same options and checks each of those against the record, stopping at the first difference
 * with a report of what differs. Input events have their place in the format for when the
 * machine has an input source. */
#ifndef VMIEMU_RECPLAY_H
#define VMIEMU_RECPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/evlog.h"
#include "emu/record.h"
#include "mmu/error.h"

struct machine;
struct machine_config;

/* Start recording the machine's run into path (before it runs). */
VM_MUST_CHECK bool recplay_record(struct machine *m, const char *path, vm_error *err);

/* Read a record's header: the options and kernel it was made with. */
VM_MUST_CHECK bool recplay_read_header(const char *path, rec_header *h, vm_error *err);
/* The machine options a record was made with. Not the initrd: like the kernel, that file is
 * given to the replay again (cfg->initrd is NULL here), and recplay_replay checks it. */
void recplay_config(const rec_header *h, struct machine_config *cfg);

/* Start checking the machine's run against the record at path (before it runs). Every input the
 * header identifies must be the recorded one: the kernel (unless any_kernel: then a difference
 * shows as a divergence), the initrd (same hash and size, or both absent), the command line and
 * the machine options. Otherwise VM_EINVAL with one message naming each difference, recorded
 * value and this run's. */
VM_MUST_CHECK bool recplay_replay(struct machine *m, const char *path, bool any_kernel, vm_error *err);

/* Replay: the instruction count of the next recorded input (UINT64_MAX if none), and inject
 * every recorded input that is due now. recplay_replaying is true while a replay runs. */
uint64_t recplay_next_input(struct machine *m);
void recplay_inject_inputs(struct machine *m);
bool recplay_replaying(const struct machine *m);

/* A what-if override changed VMI call `call` (why says how): from here on the run is live,
 * not replayed. Nothing more of the record is checked or injected; recplay_finish says so.
 * Going back to a snapshot taken before makes it a replay again. */
void recplay_go_live(struct machine *m, uint64_t call, const char *why);
bool recplay_live(const struct machine *m);

/* VMI call n (0-based, as `calls` numbers them) of the record at path, without running it. */
VM_MUST_CHECK bool recplay_find_call(const char *path, uint64_t n, vm_event *ev, vm_error *err);

/* Where recording or replay stood when a snapshot was taken: restoring the snapshot takes
 * the record back there. The all-zero mark is the start (a snapshot taken before recording or
 * replay began, which is the machine at power-on). */
typedef struct recplay_mark {
    rec_mark at;
    uint64_t checked; /* replay: checks passed up to here */
    uint64_t calls;   /* replay: VMI calls among them (those in the record) */
    uint64_t ifcalls; /* interrupt-flag calls logged up to here (emu/recplay.c: counted, not recorded) */
    uint64_t if_done; /* ifcalls as the last entry carrying the count, written or checked, had it */
    bool replaying;   /* taken while replaying (not after a what-if override made the run live) */
} recplay_mark;

/* The machine took a snapshot whose state digest is `digest`: recording writes it if the
 * snapshot is `scheduled` (one a replay takes too) and flushes (so a killed run keeps
 * everything up to here), replay checks it. Returns the mark of the place just after it.
 * Snapshots the user takes in between are not in the record: a record does not depend on the
 * debugging that went on while it was made. */
recplay_mark recplay_on_snapshot(struct machine *m, uint64_t digest, bool scheduled);

/* The machine went back to a snapshot taken at `mk`. Recording cuts the record back to there,
 * so the record is always the timeline as finally lived (and a killed run leaves a readable
 * prefix of it); replay reads on from there, checking the re-run stretch again. */
void recplay_on_restore(struct machine *m, const recplay_mark *mk);

/* The run ended: record the end, or check it; closes the file. A one-line summary (or the
 * divergence report, several lines) goes into report. A run that has not ended must be ended
 * first (END_STOPPED when the user stopped it: the record's end then says so, and a replay
 * stops at the same instruction count and succeeds). */
VM_MUST_CHECK bool recplay_finish(struct machine *m, char *report, size_t len, vm_error *err);

/* During or after a replay: true if it diverged at any point, even if the machine went back
 * before the divergence since. */
bool recplay_diverged(const struct machine *m);

/* During or after a replay: true if the record file proved bad: corrupt, or with data after
 * its end entry (checked by recplay_finish). The replay then did not check a whole run, so it
 * is not a success (vmiemu exits 2, "bad record file"). */
bool recplay_record_bad(const struct machine *m);

/* During or after a replay: true if the record is cut short (a recording killed, or its file
 * cut: no end entry, perhaps a partial last chunk) and the replay stopped where it ends, having
 * checked everything up to there (END_STOPPED). Not a success either: vmiemu exits 18. */
bool recplay_record_cut(const struct machine *m);

/* During a replay: true once the record is exhausted and checking has stopped (a record cut
 * short by a killed run: the run has been stopped there); *note says where. */
bool recplay_over(const struct machine *m, char *note, size_t len);

/* How many interrupt-flag calls (rom_call_is_irqflag: counted, not in the record) were logged
 * between the entry before that carries the count and this one: a REC_CALL, REC_MARKER,
 * REC_HASH or REC_END carries it; 0 for any other entry. The running total before an entry is
 * the sum over the entries up to it; the event log numbers calls with them, so a REC_CALL's
 * call number is the REC_CALL entries before it plus that total. */
uint64_t recplay_entry_ifcalls(const rec_entry *e);

/* A REC_CALL or REC_MARKER entry as the event it was logged as (EV_VMI_CALL or EV_MARKER, icount
 * where it was entered); false for any other entry or a payload too short to be one. For
 * reading records without a machine (vmiemu diff, vmiemu stats). */
bool recplay_decode_event(const rec_entry *e, vm_event *ev);

void recplay_free(struct machine *m);

#endif
