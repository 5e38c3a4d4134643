/* The ROM call trap: turns "a block starts at ROM code" into a performed VMI call. */
#ifndef VMIEMU_ROM_DISPATCH_H
#define VMIEMU_ROM_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

struct machine;

/* The guest is about to execute linear `pc`. If pc maps to a ROM entry, perform the call
 * (registers, return, event) and return VCPU_ROM_DONE; VCPU_ROM_RUN if pc is not ROM code or
 * the entry's slot holds real instructions the CPU should run (logged here); VCPU_ROM_BREAK if
 * a VMI-call breakpoint stops the guest before the call. */
int rom_dispatch(struct machine *m, uint32_t pc);

#endif
