#include "exit.h"

#include "io.h"

#define COM1_LSR 0x3FD
#define LSR_TEMT 0x40            /* transmitter idle: FIFO and shift register empty */
#define DRAIN_POLL_LIMIT 1000000 /* a missing or stuck UART must not hang the exit */

static void e9_puts(const char *s)
{
    while (*s)
        outb(TEST_E9_PORT, (uint8_t)*s++);
}

/* "vmiemu-exit 0x<code in hex>\n" on port 0xE9, for a host with no exit device to read. */
static void e9_report(uint32_t code)
{
    e9_puts("vmiemu-exit 0x");
    int shift = 28;
    while (shift > 0 && !(code >> shift)) /* no leading zeros */
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        outb(TEST_E9_PORT, (uint8_t)"0123456789abcdef"[(code >> shift) & 0xF]);
    outb(TEST_E9_PORT, '\n');
}

_Noreturn void test_exit(uint32_t code)
{
    outl(TEST_EXIT_PORT, code); /* QEMU and vmiemu end here */
    /* Still running: no exit device. Bochs (bench/bochs-run.sh) prints what reaches port 0xE9
     * (port_e9_hack) and ends the simulation when "Shutdown" is written to port 0x8900 byte by
     * byte, so report the code there and power off. A bare PC ignores both ports. Bochs drops
     * what COM1 has not sent yet when it powers off: let the UART drain first. */
    for (int i = 0; i < DRAIN_POLL_LIMIT && !(inb(COM1_LSR) & LSR_TEMT); i++)
        ;
    e9_report(code);
    for (const char *p = "Shutdown"; *p; p++)
        outb(TEST_BOCHS_SHUTDOWN_PORT, (uint8_t)*p);
    /* Nothing powered off (bare hardware): park with interrupts off. */
    for (;;)
        __asm__ volatile("cli; hlt");
}
