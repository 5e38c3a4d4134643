/* A ROM call's registers read from Unicorn's CPU state itself (regs_direct.c). */
#ifndef VMIEMU_REGS_DIRECT_H
#define VMIEMU_REGS_DIRECT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct cpu cpu;

/* At vcpu_open: whether c's engine may be bound (Unicorn 2.1.4, the layout checked below). */
void vcpu_regs_direct_open(cpu *c);
/* At vcpu_close: forget the state this thread last saw (it may be c's). */
void vcpu_regs_direct_close(cpu *c);
/* Registers `want` (bits of EAX..CS) into out[] from c's bound state; false (nothing read) if
 * c's engine is not bound and cannot be bound now. From the block hook only. */
bool vcpu_regs_direct_read(cpu *c, uint32_t want, uint32_t *out);
/* EFLAGS without its arithmetic flags and DF (IF, TF, VM, IOPL... as the CPU keeps them),
 * binding c's engine first if it can be now; false (nothing read) if it cannot. Cheap enough
 * for every block start. */
bool vcpu_regs_direct_system_flags(cpu *c, uint32_t *out);
/* An interrupt-flag call's registers, EAX, ESP, CS and EFLAGS, into out[] from c's bound state
 * (false if none is bound yet). EFLAGS: whole if `whole`, else without the arithmetic flags
 * and DF (their computation is most of the read). */
bool vcpu_regs_direct_flag_call(cpu *c, bool whole, uint32_t *out);
/* The CPU state the last pushfd on this thread ran on (NULL since an engine closed): a caller
 * whose engine is not bound tests it first, so a guest that runs no pushfd pays one load. */
extern _Thread_local void *vcpu_regs_seen;

/* Moves at every guest mov to a debug register on this thread (Unicorn's helper_set_dr,
 * wrapped), the thread the engine runs on. What was read of DR7 holds while it has not moved
 * and the host has not written DR7 or loaded a state (cpu.c: dr7_clear_at, vcpu_slot_runs_whole). */
extern _Thread_local uint64_t vcpu_dr_writes;

#endif
