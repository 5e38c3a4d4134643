/* The one event log: every VMI call, unhandled exception, port access to an unknown port and
 * end of run is a fixed-size record {icount, kind, payload}. The debugger, the record file,
 * replay checks and the --log writer all read this log. */
#ifndef VMIEMU_EVLOG_H
#define VMIEMU_EVLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ev_kind {
    EV_VMI_CALL,   /* num = call number (or EV_NUM_INIT / EV_NUM_RELOC) */
    EV_PORT_IN,    /* unknown port read: num = port, args[0] = size, result = value given */
    EV_PORT_OUT,   /* unknown port write: num = port, args[0] = size, args[1] = value */
    EV_EXCEPTION,  /* num = vector */
    EV_MEMORY,     /* bad physical access: args[0] = address, args[1] = access char */
    EV_GUEST_ERROR,/* the guest misused the ROM; text in the end message */
    EV_END,        /* num = machine_end; args[0] = exit value (exit port) */
    EV_INPUT,      /* serial input: num = byte count, args[0..3] = up to 16 bytes */
} ev_kind;

#define EV_NUM_INIT 0x100u  /* Init (rom+0x80) */
#define EV_NUM_RELOC 0x101u /* GetRelocationInfo (rom+0x88) */

typedef struct vm_event {
    uint64_t icount;
    uint64_t result;
    uint32_t eip;      /* the caller's EIP (return address - call size) or the faulting EIP */
    uint32_t args[5];
    uint32_t extra[3]; /* CPUID: EBX, ECX, EDX out */
    uint16_t kind;
    uint16_t num;
    uint8_t nargs;
    uint8_t failed;
} vm_event;

typedef void (*evlog_sink)(void *ctx, const vm_event *ev);

typedef struct evlog {
    vm_event *events;
    size_t count, capacity;
    evlog_sink sink; /* called for each event as it is added (e.g. the --log writer) */
    void *sink_ctx;
    evlog_sink observer; /* called for each event too: recording and replay checks */
    void *observer_ctx;
} evlog;

void evlog_init(evlog *log);
void evlog_free(evlog *log);
/* Append; false if memory ran out (the event still went to the sink). */
bool evlog_add(evlog *log, const vm_event *ev);

const char *ev_kind_name(ev_kind k);

/* One line of text without newline, e.g.
 * "#12 icount=4821 eip=0x00100a2c vmi GetCycleCounter(counter=real) = 4815". */
size_t ev_format_text(const vm_event *ev, size_t index, char *buf, size_t len);
/* One JSON object without newline, written by jansson (valid JSON for any event; serial bytes
 * are a string whose code points are the bytes). NUL-terminated in len; returns the length the
 * whole object needs, so a result >= len means it was cut short. */
size_t ev_format_json(const vm_event *ev, size_t index, char *buf, size_t len);

#endif
