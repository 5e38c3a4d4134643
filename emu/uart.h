/* A 16550A UART (COM1 at 0x3F8, ISA IRQ 4), at the fidelity Linux's 8250 driver probes for.
 *
 * Modelled: the divisor latch (DLAB), IER (bits 0-3; 4-7 read 0, as Linux's probe for other
 * chips expects), IIR with the FIFO bits 0xC0 and the four sources in the chip's priority
 * (line status > received data or character timeout > THR empty > modem status), FCR (FIFO
 * enable, RX and TX clear, RX trigger level 1/4/8/14; toggling the enable clears both FIFOs),
 * LCR, MCR bits 0-4 with loopback (TX goes to the RX FIFO instead of out; DTR, RTS, OUT1, OUT2
 * drive DSR, CTS, RI, DCD), LSR (DR, OE, THRE, TEMT; the error bits are sticky until LSR is
 * read), MSR with the delta bits (cleared by reading MSR), the scratch register. The THR-empty
 * interrupt is pending after every transmission and when ETBEI is set while THR is empty;
 * reading IIR while it is the reported source, or writing THR, clears it. The interrupt output
 * reaches the PIC only while MCR OUT2 is set and loopback is off, as a PC's OUT2 gate does.
 *
 * Timing: none; the UART lives in virtual time with no clock of its own. A transmitted byte
 * leaves at once (THR and the transmitter are always empty again after the write). Received
 * bytes wait on the "wire" (the input queue, as with hardware flow control: nothing is lost)
 * and move into the RX FIFO (16 bytes; 1 with the FIFO off) whenever it has room, except in
 * loopback, where the wire is disconnected. With the FIFO on, fewer bytes than the trigger
 * level report the character-timeout interrupt (IIR 0x0C) at once: the next byte would arrive
 * in the same instant, so if none did, none is coming. A loopback byte that finds the RX FIFO
 * full sets OE (with the FIFO off it overwrites the holding register; with it on it is lost).
 * Not modelled: parity, framing and break (PE, FE, BI and LSR bit 7 never set; LCR bit 6 is
 * stored only), DMA mode (FCR bit 3 stored), the 16750's 64-byte FIFO (FCR bit 5 ignored),
 * baud rate (the divisor is stored and read back only).
 *
 * Plain data without pointers: a snapshot copies the struct. The caller passes the interrupt
 * line to every call that may change it (NULL: wired nowhere); the struct remembers the level
 * it drives and only signals changes. */
#ifndef VMIEMU_UART_H
#define VMIEMU_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/irq.h"
#include "emu/state_ser.h"

#define UART_COM1 0x3F8u
#define UART_COM1_IRQ 4
#define UART_INPUT_MAX 4096u
#define UART_FIFO_SIZE 16u

typedef void (*uart_tx_fn)(void *ctx, uint8_t byte); /* where the machine sends transmitted bytes */
#define UART_NO_TX (-1)

/* Register offsets from the base port. */
enum {
    UART_RBR_THR = 0, /* DLAB: divisor low byte */
    UART_IER = 1,     /* DLAB: divisor high byte */
    UART_IIR_FCR = 2, /* read IIR, write FCR */
    UART_LCR = 3,
    UART_MCR = 4,
    UART_LSR = 5,
    UART_MSR = 6,
    UART_SCR = 7,
};

/* Plain data without pointers: a snapshot copies the struct; where transmitted bytes go is
 * the machine's (machine_set_serial_out). */
typedef struct uart {
    uint8_t ier, lcr, mcr, scr;
    uint8_t fcr;        /* FIFO enable, DMA mode, RX trigger bits (the clear bits self-clear) */
    uint8_t lsr_errors; /* OE (PE, FE, BI never): sticky until LSR is read */
    uint8_t msr_delta;  /* DCTS, DDSR, TERI, DDCD: until MSR is read */
    bool thre_pending;  /* the THR-empty interrupt, until IIR reports it or THR is written */
    bool irq_level;     /* the level driven on the interrupt line */
    uint16_t divisor;
    uint8_t rx[UART_FIFO_SIZE]; /* RX FIFO (ring) */
    uint8_t rx_head, rx_count;
    uint8_t input[UART_INPUT_MAX]; /* the wire: received bytes not yet in the RX FIFO (ring) */
    size_t in_head, in_count;
    uint64_t tx_bytes;
} uart;

/* Power-on state: registers as the BIOS leaves them (9600 baud), empty FIFO and wire, the line
 * low. */
void uart_init(uart *u);
/* Queue received bytes on the wire; returns how many fit. */
size_t uart_push_input(uart *u, const irq_line *irq, const uint8_t *data, size_t len);
uint32_t uart_read(uart *u, const irq_line *irq, uint16_t offset);
/* Write a register (offset 0-7); returns the byte to transmit, or UART_NO_TX. */
int uart_write(uart *u, const irq_line *irq, uint16_t offset, uint32_t value);

/* Write the state field by field (emu/state_ser.h): the FIFO's and the wire's bytes in order,
 * not the rings' positions. */
void uart_serialise(const uart *u, state_writer *w);

#endif
