/* An 8250 UART (COM1 at 0x3F8): transmit to a sink, receive from an input queue, line status.
 * Interrupts come with the PIC in a later issue; IER is stored and read back. */
#ifndef VMIEMU_UART_H
#define VMIEMU_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/state_ser.h"

#define UART_COM1 0x3F8u
#define UART_INPUT_MAX 4096u

typedef void (*uart_tx_fn)(void *ctx, uint8_t byte);

typedef struct uart {
    uint8_t ier, lcr, mcr, scr, fcr;
    uint16_t divisor;
    uint8_t input[UART_INPUT_MAX]; /* receive queue (ring) */
    size_t in_head, in_count;
    uart_tx_fn tx;
    void *tx_ctx;
    uint64_t tx_bytes;
} uart;

void uart_init(uart *u, uart_tx_fn tx, void *tx_ctx);
/* Queue received bytes; returns how many fit. */
size_t uart_push_input(uart *u, const uint8_t *data, size_t len);
uint32_t uart_read(void *opaque, uint16_t offset, int size);
void uart_write(void *opaque, uint16_t offset, int size, uint32_t value);

/* Write the state field by field (emu/state_ser.h): the queued input in order, not the
 * ring's position or the transmit sink. */
void uart_serialise(const uart *u, state_writer *w);

#endif
