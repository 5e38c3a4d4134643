/* Shared by the vmi_*.c wrappers (not for kernels): how a wrapper reaches the ROM.
 *
 * Every ROM entry point is a GCC regparm(3) function: arguments in EAX, EDX, ECX, the
 * fourth and fifth at [esp+4] and [esp+8] on entry (pushed by the caller, which pops them),
 * 64-bit arguments in two consecutive registers or stack slots (low word first), 64-bit
 * results in EDX:EAX, EBX/ESI/EDI/EBP preserved. A function-pointer type with the same
 * parameters makes GCC produce exactly that call, so each call has a typedef below that
 * spells its real signature. (Checked with objdump: see README.md, "Register level".) */
#ifndef TK_VMI_INTERNAL_H
#define TK_VMI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "vmi.h"

#define VMI_REGPARM __attribute__((regparm(3)))

typedef uint64_t(VMI_REGPARM *vmi_fn0)(void);
typedef uint64_t(VMI_REGPARM *vmi_fn1)(uint32_t);
typedef uint64_t(VMI_REGPARM *vmi_fn2)(uint32_t, uint32_t);
typedef uint64_t(VMI_REGPARM *vmi_fn3)(uint32_t, uint32_t, uint32_t);
typedef uint64_t(VMI_REGPARM *vmi_fn4)(uint32_t, uint32_t, uint32_t, uint32_t);
typedef uint64_t(VMI_REGPARM *vmi_fn5)(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
/* (u64 in EAX:EDX, u32 in ECX): RDMSR and RDPMC as VMware's spec has them (dummy, index). */
typedef uint64_t(VMI_REGPARM *vmi_fn_q_w)(uint64_t, uint32_t);
typedef void(VMI_REGPARM *vmi_fn_setpxelong)(uint64_t, uint32_t, uint32_t);
/* SetAlarm: flags EAX, expiry EDX (low) / ECX (high), period [esp+4] (low) / [esp+8]. */
typedef void(VMI_REGPARM *vmi_fn_setalarm)(uint32_t, uint64_t, uint64_t);

/* Linear address of call `num`'s implementation (meaningful when vmi_has(num)). */
static inline uintptr_t vmi_addr(unsigned num) { return (uintptr_t)vmi_get_reloc(num).addr; }

/* The ROM answered NOP: the operation is not needed. */
static inline bool vmi_is_nop(unsigned num) { return vmi_get_reloc(num).type == VMI_RELOC_NOP; }

/* Use the native instruction: no ROM, NONE, or a JUMP_REL a returning call cannot use. */
static inline bool vmi_native(unsigned num) { return !vmi_has(num) && !vmi_is_nop(num); }

/* vmi_entry.S: where trap.S and vmi_iret()/vmi_sysexit() jump; vmi.c keeps them current. */
extern uint32_t vmi_iret_target, vmi_iret_rom, vmi_sysexit_target, vmi_sysexit_rom;
extern const char vmi_native_iret[], vmi_iret_call_thunk[];
extern const char vmi_native_sysexit[], vmi_sysexit_call_thunk[];

/* vmi_calls.c: point the IRET/SYSEXIT jump targets at the current relocations. */
void vmi_entry_update(void);

#endif
