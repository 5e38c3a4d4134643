#include "serial.h"

#include "io.h"

#define COM1 0x3F8
#define UART_THR 0 /* transmit holding (DLAB=0) / divisor low (DLAB=1) */
#define UART_IER 1 /* interrupt enable / divisor high (DLAB=1) */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20 /* transmit holding register empty */

/* A UART that never reports THRE must not hang the test: give up waiting after this many
 * polls and write anyway (a real 16550 at 115200 baud needs far fewer). */
#define THRE_POLL_LIMIT 1000000

void serial_init(void)
{
    outb(COM1 + UART_IER, 0x00); /* polled: no UART interrupts */
    outb(COM1 + UART_LCR, 0x80); /* DLAB on to set the divisor */
    outb(COM1 + UART_THR, 0x01); /* 115200 baud */
    outb(COM1 + UART_IER, 0x00);
    outb(COM1 + UART_LCR, 0x03); /* 8N1, DLAB off */
    outb(COM1 + UART_FCR, 0xC7); /* FIFOs on and cleared */
    outb(COM1 + UART_MCR, 0x03); /* DTR + RTS; OUT2 off keeps the IRQ line quiet */
}

void serial_putc(char c)
{
    for (int i = 0; i < THRE_POLL_LIMIT; i++)
        if (inb(COM1 + UART_LSR) & LSR_THRE)
            break;
    outb(COM1 + UART_THR, (uint8_t)c);
}

void serial_puts(const char *s)
{
    while (*s)
        serial_putc(*s++);
}
