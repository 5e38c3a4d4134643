/* An 8250 UART (COM1 at 0x3F8): transmit (the caller sends the byte on), receive from an input queue, line status.
 * Interrupts come with the PIC in a later issue; IER is stored and read back. */
#ifndef VMIEMU_UART_H
#define VMIEMU_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/state_ser.h"

#define UART_COM1 0x3F8u
#define UART_INPUT_MAX 4096u

typedef void (*uart_tx_fn)(void *ctx, uint8_t byte); /* where the machine sends transmitted bytes */
#define UART_NO_TX (-1)

/* Plain data without pointers: a snapshot copies the struct; where transmitted bytes go is
 * the machine's (machine_set_serial_out). */
typedef struct uart {
    uint8_t ier, lcr, mcr, scr, fcr;
    uint16_t divisor;
    uint8_t input[UART_INPUT_MAX]; /* receive queue (ring) */
    size_t in_head, in_count;
    uint64_t tx_bytes;
} uart;

void uart_init(uart *u);
/* Queue received bytes; returns how many fit. */
size_t uart_push_input(uart *u, const uint8_t *data, size_t len);
uint32_t uart_read(uart *u, uint16_t offset);
/* Write a register (offset 0-7 from COM1); returns the byte to transmit, or UART_NO_TX. */
int uart_write(uart *u, uint16_t offset, uint32_t value);

/* Write the state field by field (emu/state_ser.h): the queued input in order, not the
 * ring's position. */
void uart_serialise(const uart *u, state_writer *w);

#endif
