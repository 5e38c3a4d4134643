/* VMI calls as debugger users name them (`break vmi SetPxE`, `monitor break vmi 12`): the
 * shell and the GDB stub's monitor commands share these. */
#ifndef VMIEMU_VMICALL_H
#define VMIEMU_VMICALL_H

#include <stddef.h>
#include <stdint.h>

#include "mmu/error.h"

/* A call name (SetPxE, Init, GetRelocationInfo) or number to the event number a VMI-call
 * breakpoint takes (emu/debug.h); VM_EINVAL if it is neither. */
VM_MUST_CHECK bool vmicall_number(const char *text, uint16_t *num, vm_error *err);
/* The name of an event number, "undefined" if none. */
const char *vmicall_name(uint16_t num);
/* The call as stop messages name it: "SetPxE (#38)", "Init (rom+0x80)",
 * "GetRelocationInfo (rom+0x88)". Returns buf. */
const char *vmicall_label(uint16_t num, char *buf, size_t len);

#endif
