/* Watching for IF to be set while an interrupt waits for it (cpu/ifwatch.c). */
#ifndef VMIEMU_IFWATCH_H
#define VMIEMU_IFWATCH_H

#include <stdbool.h>

typedef struct cpu cpu;

/* While on, every guest instruction that may set IF (Unicorn's helpers of sti, popf, iret,
 * far jmp/call through a TSS, sysret, rsm, vmrun) marks c's next block start to look at IF
 * (c->if_rose, c->limit 0). One CPU per thread; off, or c closing, forgets it. */
void vcpu_ifwatch(cpu *c, bool on);

#endif
