/* A catch-all IDT: any exception or interrupt prints one line describing it on the serial
 * port and ends the test with TEST_FAIL, instead of a silent triple fault. boot.S installs
 * it before kmain (before any VMI call, so it is a plain `lidt`). */
#ifndef TK_TRAP_H
#define TK_TRAP_H

#include <stdint.h>

/* Layout pushed by trap.S: pushal, then vector and error code, then the CPU's frame. */
struct trap_frame {
    uint32_t edi, esi, ebp, esp_pushal, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
};

void trap_init(void);
_Noreturn void trap_report(const struct trap_frame *f);

#endif
