/* loop: a tight ALU loop for measuring raw emulation speed. `iters=N` sets the iteration
 * count (default 100000000); each iteration is exactly 6 instructions, so the loop runs
 * 6 * N instructions (plus a few dozen around it). The checksum lets a host compare the
 * result with a reference run. */
#include <stdint.h>

#include "exit.h"
#include "kprintf.h"
#include "multiboot.h"
#include "serial.h"

#define DEFAULT_ITERS 100000000u
#define INSNS_PER_ITER 6

/* add, xor, sub, rol, dec, jnz: 6 instructions per iteration. */
static uint32_t alu_loop(uint32_t iters)
{
    uint32_t a = 0x12345678, b = 0x9ABCDEF0, n = iters;
    if (n == 0) /* dec would wrap to 2^32 - 1 */
        return a ^ b;
    __asm__ volatile("1:\n\t"
                     "addl %1, %0\n\t"
                     "xorl %0, %1\n\t"
                     "subl $0x3B9ACA07, %1\n\t"
                     "roll $3, %0\n\t"
                     "decl %2\n\t"
                     "jnz 1b"
                     : "+r"(a), "+r"(b), "+c"(n)
                     :
                     : "cc");
    return a ^ b;
}

void kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    serial_init();
    const char *cmdline = mb_cmdline(magic, mbi);
    uint32_t iters = DEFAULT_ITERS;
    if (mb_cmdline_u32(cmdline, "iters", &iters) < 0) {
        kprintf("loop: bad iters= value in \"%s\"\n", cmdline);
        test_exit(TEST_FAIL);
    }
    kprintf("loop: %u instructions per iteration\n", INSNS_PER_ITER);
    const uint32_t sum = alu_loop(iters);
    kprintf("loop: %u iterations\n", iters);
    kprintf("loop: checksum 0x%08x\n", sum);
    test_exit(TEST_PASS);
}
