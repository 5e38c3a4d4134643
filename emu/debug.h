/* The debugging API the shell and the GDB stub share: run control forwards and backwards,
 * breakpoints, watchpoints and VMI-call breakpoints, registers and memory. It drives the
 * machine; it knows nothing about terminals or sockets. */
#ifndef VMIEMU_DEBUG_H
#define VMIEMU_DEBUG_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/machine.h"
#include "mmu/error.h"

#define DBG_MAX_POINTS 64

typedef enum dbg_point_kind {
    DBG_BREAK,     /* stop before executing a linear address */
    DBG_WATCH,     /* stop after an access to memory (physical range): see access */
    DBG_VMI_BREAK, /* stop before a VMI call (by event number) */
} dbg_point_kind;

typedef struct dbg_point {
    int id;          /* 1-based, as users see it; 0 = free slot */
    dbg_point_kind kind;
    uint32_t addr;   /* DBG_BREAK: linear address; DBG_WATCH: linear address as given */
    uint64_t phys;   /* DBG_WATCH: the physical address watched */
    uint32_t len;    /* DBG_WATCH */
    char access;     /* DBG_WATCH: 'w' write, 'r' read, 'a' either */
    uint16_t call;   /* DBG_VMI_BREAK: event number (0..73, 0x100 Init, 0x101 GetRelocationInfo) */
    uint64_t hits;
} dbg_point;

typedef enum dbg_stop {
    DBG_STOPPED,      /* the requested step or goto completed */
    DBG_BREAKPOINT,   /* before a breakpoint address or VMI call */
    DBG_WATCHPOINT,   /* just after a watched write */
    DBG_ENDED,        /* the guest ended (machine->end says how) */
    DBG_START,        /* going back reached the start of the recorded past */
    DBG_INTERRUPTED,  /* dbg_interrupt() (Ctrl-C) */
    DBG_FAILED,       /* see the error */
} dbg_stop;

typedef struct dbg {
    machine *m;
    dbg_point points[DBG_MAX_POINTS];
    int next_id;
    volatile sig_atomic_t interrupt; /* set from a signal handler to stop a running guest */
    const dbg_point *last_hit;       /* the point the last stop was at, if any */
} dbg;

void dbg_init(dbg *d, machine *m);

/* Run control. Each returns why it stopped; err explains DBG_FAILED. */
VM_MUST_CHECK dbg_stop dbg_stepi(dbg *d, uint64_t n, vm_error *err);
/* One machine_run: DBG_STOPPED when the host hook (or dbg_interrupt) paused it at a boundary. */
VM_MUST_CHECK dbg_stop dbg_run(dbg *d, vm_error *err);
/* The same after a DBG_STOPPED pause the user did not see: a breakpoint here stops it. */
VM_MUST_CHECK dbg_stop dbg_run_on(dbg *d, vm_error *err);
/* Runs until a point, the end, or dbg_interrupt (seen at the machine's next host boundary). */
VM_MUST_CHECK dbg_stop dbg_continue(dbg *d, vm_error *err);
VM_MUST_CHECK dbg_stop dbg_reverse_stepi(dbg *d, uint64_t n, vm_error *err);
VM_MUST_CHECK dbg_stop dbg_reverse_continue(dbg *d, vm_error *err);
VM_MUST_CHECK dbg_stop dbg_goto(dbg *d, uint64_t icount, vm_error *err);
VM_MUST_CHECK dbg_stop dbg_goto_call(dbg *d, size_t n, vm_error *err);
/* To just before the first guest marker named `name` (tt_goto_marker: a replay runs forward). */
VM_MUST_CHECK dbg_stop dbg_goto_marker(dbg *d, const char *name, vm_error *err);
/* Safe from a signal handler: a running continue stops at the machine's next host boundary
 * (every MACHINE_HOST_EVERY instructions unless a frontend set another interval). */
void dbg_interrupt(dbg *d);

/* Points. Add returns the new id (> 0) or 0 with err. */
VM_MUST_CHECK int dbg_break(dbg *d, uint32_t linear, vm_error *err);
VM_MUST_CHECK int dbg_watch(dbg *d, uint32_t linear, uint32_t len, bool physical, vm_error *err); /* writes */
VM_MUST_CHECK int dbg_watch_access(dbg *d, uint32_t linear, uint32_t len, bool physical, char access, vm_error *err);
VM_MUST_CHECK int dbg_vmi_break(dbg *d, uint16_t call, vm_error *err);
bool dbg_delete(dbg *d, int id); /* id 0 deletes every point */

/* State. Memory is linear (through the guest's page tables) unless stated. */
uint32_t dbg_reg(dbg *d, cpu_reg r);
VM_MUST_CHECK bool dbg_set_reg(dbg *d, cpu_reg r, uint32_t value);
VM_MUST_CHECK bool dbg_read(dbg *d, uint32_t linear, void *buf, uint32_t len);
VM_MUST_CHECK bool dbg_write(dbg *d, uint32_t linear, const void *buf, uint32_t len);
uint64_t dbg_icount(dbg *d);

const char *dbg_stop_name(dbg_stop s);

#endif
