/* The usual start of a test kernel: serial port, banner, VMI ROM (probe + Init + every
 * relocation, or a note that it runs natively), and the IDT loaded through SetIDT. */
#ifndef TK_KERNEL_H
#define TK_KERNEL_H

#include <stdint.h>

/* Prints "NAME: vmiemu test kernel", then "NAME: VMI ROM at 0x..., API 3.x, Init 0,
 * kernel ring 0" or "NAME: no VMI ROM: running natively". If Init fails it prints
 * "NAME: FAIL (Init returned N)" and exits 35. */
void kernel_start(const char *name);

/* Linker symbols: the kernel image spans [__kernel_start, __bss_end). */
extern const char __kernel_start[], __bss_end[];

#endif
