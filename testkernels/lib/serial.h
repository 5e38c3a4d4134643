/* 8250/16550 UART at COM1 (0x3F8), polled, 115200 8N1, no interrupts.
 * Lines end in a bare '\n' so captured output compares byte for byte. */
#ifndef TK_SERIAL_H
#define TK_SERIAL_H

void serial_init(void);
void serial_putc(char c);
void serial_puts(const char *s);

#endif
