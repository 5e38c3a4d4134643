#include "emu/uart.h"

#include <string.h>

enum { REG_DATA = 0, REG_IER = 1, REG_IIR_FCR = 2, REG_LCR = 3, REG_MCR = 4, REG_LSR = 5, REG_MSR = 6, REG_SCR = 7 };
#define LCR_DLAB 0x80u
#define LSR_DATA_READY 0x01u
#define LSR_THR_EMPTY 0x20u
#define LSR_TX_IDLE 0x40u
#define IIR_NO_INTERRUPT 0x01u

void uart_init(uart *u)
{
    memset(u, 0, sizeof *u);
    u->divisor = 12; /* 9600 baud, as the BIOS leaves it */
}

size_t uart_push_input(uart *u, const uint8_t *data, size_t len)
{
    size_t n = 0;
    while (n < len && u->in_count < UART_INPUT_MAX) {
        u->input[(u->in_head + u->in_count) % UART_INPUT_MAX] = data[n++];
        u->in_count++;
    }
    return n;
}

static uint8_t pop_input(uart *u)
{
    if (u->in_count == 0)
        return 0;
    uint8_t b = u->input[u->in_head];
    u->in_head = (u->in_head + 1) % UART_INPUT_MAX;
    u->in_count--;
    return b;
}

uint32_t uart_read(uart *u, uint16_t offset)
{
    bool dlab = u->lcr & LCR_DLAB;
    switch (offset) {
    case REG_DATA: return dlab ? (u->divisor & 0xFF) : pop_input(u);
    case REG_IER: return dlab ? (u->divisor >> 8) : u->ier;
    case REG_IIR_FCR: return IIR_NO_INTERRUPT | (u->fcr & 1 ? 0xC0 : 0);
    case REG_LCR: return u->lcr;
    case REG_MCR: return u->mcr;
    case REG_LSR: return LSR_THR_EMPTY | LSR_TX_IDLE | (u->in_count ? LSR_DATA_READY : 0);
    case REG_MSR: return 0xB0; /* CTS, DSR, DCD: a cable is attached */
    case REG_SCR: return u->scr;
    default: return 0;
    }
}

int uart_write(uart *u, uint16_t offset, uint32_t value)
{
    uint8_t v = (uint8_t)value;
    bool dlab = u->lcr & LCR_DLAB;
    switch (offset) {
    case REG_DATA:
        if (dlab) {
            u->divisor = (uint16_t)((u->divisor & 0xFF00) | v);
        } else {
            u->tx_bytes++;
            return v;
        }
        break;
    case REG_IER:
        if (dlab)
            u->divisor = (uint16_t)((u->divisor & 0x00FF) | (v << 8));
        else
            u->ier = v & 0x0F;
        break;
    case REG_IIR_FCR: u->fcr = v; break;
    case REG_LCR: u->lcr = v; break;
    case REG_MCR: u->mcr = v & 0x1F; break;
    case REG_SCR: u->scr = v; break;
    default: break; /* LSR and MSR are read-only */
    }
    return UART_NO_TX;
}

void uart_serialise(const uart *u, state_writer *w)
{
    state_put_u8(w, u->ier);
    state_put_u8(w, u->lcr);
    state_put_u8(w, u->mcr);
    state_put_u8(w, u->scr);
    state_put_u8(w, u->fcr);
    state_put_u16(w, u->divisor);
    state_put_u32(w, (uint32_t)u->in_count);
    size_t first = UART_INPUT_MAX - u->in_head < u->in_count ? UART_INPUT_MAX - u->in_head : u->in_count;
    state_put_bytes(w, u->input + u->in_head, first);
    state_put_bytes(w, u->input, u->in_count - first);
    state_put_u64(w, u->tx_bytes);
}
