/* The one event log: every VMI call, unhandled exception, port access to an unknown port and
 * end of run is a fixed-size record {icount, kind, payload}. The debugger, the record file,
 * replay checks and the --log writer all read this log.
 *
 * A VMI call's icount is where it was entered: the instruction count at its ROM entry, where
 * `break vmi` stops and `goto call` lands. A native call (its slot is real guest instructions)
 * is logged only once its slot has returned, `insns` instructions later; the log is in the
 * order events were logged, ev_logged_at. */
#ifndef VMIEMU_EVLOG_H
#define VMIEMU_EVLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/error.h"

typedef enum ev_kind {
    EV_VMI_CALL,   /* num = call number (or EV_NUM_INIT / EV_NUM_RELOC) */
    EV_PORT_IN,    /* unknown port read: num = port, args[0] = size, result = value given */
    EV_PORT_OUT,   /* unknown port write: num = port, args[0] = size, args[1] = value */
    EV_EXCEPTION,  /* num = vector */
    EV_MEMORY,     /* bad physical access: args[0] = address, args[1] = access char */
    EV_GUEST_ERROR,/* the guest misused the ROM; text in the end message */
    EV_END,        /* num = machine_end; args[0] = exit value (exit port) */
    EV_INPUT,      /* host input: num = byte count, args[0..3] = up to 16 bytes, args[4] = device
                      (host_device: 0 COM1, 1 keyboard) */
    EV_MARKER,     /* a guest marker (port MARKER_PORT): num = name length, the name's bytes in
                      args[0..4] then extra[0..2] (ev_marker_name); args are not decoded */
} ev_kind;

#define EV_NUM_INIT 0x100u  /* Init (rom+0x80) */
#define EV_NUM_RELOC 0x101u /* GetRelocationInfo (rom+0x88) */

typedef struct vm_event {
    uint64_t icount;   /* where it happened; a VMI call: its ROM entry (before the call) */
    uint64_t result;
    uint32_t eip;      /* the caller's EIP (return address - call size) or the faulting EIP */
    uint32_t args[5];
    uint32_t extra[3]; /* CPUID: EBX, ECX, EDX out */
    uint32_t insns;    /* VMI call: instructions its native slot ran (0 for a host call) */
    uint16_t kind;
    uint16_t num;
    uint8_t nargs;
    uint8_t failed;
} vm_event;

#define EV_KINDS 9 /* kinds above */

/* A guest names a moment by writing the linear address of a NUL-terminated name to this port
 * (32-bit `out`); the name's first EV_MARKER_NAME_MAX bytes are kept. Unused on a PC and in
 * QEMU's PC machines; it works with and without the VMI ROM. */
#define MARKER_PORT 0x4F8u
#define EV_MARKER_NAME_MAX 32u

/* A marker's name into buf (NUL-terminated; buf holds EV_MARKER_NAME_MAX + 1); its length. */
size_t ev_marker_name(const vm_event *ev, char *buf);
/* Store name[0..len) (at most EV_MARKER_NAME_MAX bytes) as ev's marker name. */
void ev_set_marker_name(vm_event *ev, const char *name, size_t len);

/* The instruction count at which the event was logged: a native call's slot has run by then.
 * Events are logged, and kept, in this order. */
static inline uint64_t ev_logged_at(const vm_event *ev) { return ev->icount + ev->insns; }

typedef void (*evlog_sink)(void *ctx, const vm_event *ev);

struct evlog_store;

/* The log is kept in chunks of EVLOG_CHUNK events. The newest chunk is a plain array; a full
 * one is delta/varint-encoded and LZ4-compressed (a few bytes an event), and once the
 * compressed chunks pass the memory cap the oldest are spilled to an unlinked temporary file.
 * Each chunk is indexed (first and last icount, events of each kind before it and in it), so a
 * lookup by event number, by icount or by kind (the n-th call) is a binary search plus one
 * chunk decode; a small cache keeps the last chunks decoded. */
#define EVLOG_CHUNK 4096u
#define EVLOG_DEFAULT_MEM_MIB 64u

typedef struct evlog {
    struct evlog_store *store;
    evlog_sink sink; /* called for each event as it is added (e.g. the --log writer) */
    void *sink_ctx;
    evlog_sink observer; /* called for each event too: recording and replay checks */
    void *observer_ctx;
} evlog;

/* An empty log (nothing allocated until the first event). */
void evlog_init(evlog *log);
void evlog_free(evlog *log);
/* Bytes of compressed chunks kept in memory before older ones go to a temporary file. */
void evlog_set_mem_limit(evlog *log, size_t bytes);
/* Append; false if memory ran out or a chunk could not be spilled (the event still went to the
 * sink and the observer; a chunk that cannot be spilled stays in memory). */
VM_MUST_CHECK bool evlog_add(evlog *log, const vm_event *ev);

size_t evlog_count(const evlog *log);
/* Event i (0-based); false if there is none or its chunk cannot be read back. */
VM_MUST_CHECK bool evlog_get(const evlog *log, size_t i, vm_event *out);
/* Cut the log back to its first n events (a snapshot restore: the future is run again). */
void evlog_truncate(evlog *log, size_t n);
/* How many events of kind k are among the first n. */
size_t evlog_count_kind(const evlog *log, ev_kind k, size_t n);
/* The event number of the n-th (0-based) event of kind k; false if there are not that many. */
bool evlog_find_kind(const evlog *log, ev_kind k, size_t n, size_t *index);
/* The number of the first event logged at or after icount (ev_logged_at; evlog_count if none). */
size_t evlog_find_icount(const evlog *log, uint64_t icount);

/* Memory and work figures, for --log-mem, BENCHMARKS.md and tests. */
typedef struct evlog_stats {
    size_t chunks, spilled;   /* full chunks; of them, in the temporary file */
    size_t compressed_bytes;  /* compressed chunks held in memory */
    size_t spilled_bytes;     /* bytes in the temporary file */
    size_t memory_bytes;      /* everything the log holds in memory */
    size_t decodes;           /* chunk decodes so far (cache misses) */
} evlog_stats;
void evlog_get_stats(const evlog *log, evlog_stats *st);

const char *ev_kind_name(ev_kind k);

/* One line of text without newline, e.g.
 * "#12 icount=4821 eip=0x00100a2c vmi GetCycleCounter(counter=real) = 4815". */
size_t ev_format_text(const vm_event *ev, size_t index, char *buf, size_t len);
/* One JSON object without newline, written by jansson (valid JSON for any event; serial bytes
 * are a string whose code points are the bytes). NUL-terminated in len; returns the length the
 * whole object needs, so a result >= len means it was cut short. */
size_t ev_format_json(const vm_event *ev, size_t index, char *buf, size_t len);

#endif
