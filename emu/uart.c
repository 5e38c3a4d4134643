#include "emu/uart.h"

#include <string.h>

#define LCR_DLAB 0x80u

#define IER_RDI 0x01u  /* received data available (and character timeout) */
#define IER_THRI 0x02u /* THR empty */
#define IER_RLSI 0x04u /* line status */
#define IER_MSI 0x08u  /* modem status */
#define IER_MASK 0x0Fu

#define IIR_NO_INT 0x01u
#define IIR_MSI 0x00u
#define IIR_THRI 0x02u
#define IIR_RDI 0x04u
#define IIR_RLSI 0x06u
#define IIR_TIMEOUT 0x0Cu
#define IIR_FIFO_ON 0xC0u

#define FCR_ENABLE 0x01u
#define FCR_CLEAR_RX 0x02u
#define FCR_DMA 0x08u
#define FCR_TRIGGER 0xC0u

#define MCR_DTR 0x01u
#define MCR_RTS 0x02u
#define MCR_OUT1 0x04u
#define MCR_OUT2 0x08u
#define MCR_LOOP 0x10u
#define MCR_MASK 0x1Fu

#define LSR_DR 0x01u
#define LSR_OE 0x02u
#define LSR_THRE 0x20u
#define LSR_TEMT 0x40u

#define MSR_CTS 0x10u
#define MSR_DSR 0x20u
#define MSR_RI 0x40u
#define MSR_DCD 0x80u
#define MSR_DCTS 0x01u
#define MSR_DDSR 0x02u
#define MSR_TERI 0x04u
#define MSR_DDCD 0x08u
#define MSR_CABLE (MSR_CTS | MSR_DSR | MSR_DCD) /* outside loopback: a cable with a live peer */

/* RX trigger level by FCR bits 6-7. */
static const uint8_t rx_trigger[4] = {1, 4, 8, 14};

void uart_init(uart *u)
{
    memset(u, 0, sizeof *u);
    u->divisor = 12; /* 9600 baud, as the BIOS leaves it */
}

static bool loopback(const uart *u) { return u->mcr & MCR_LOOP; }

static bool fifo_on(const uart *u) { return u->fcr & FCR_ENABLE; }

static unsigned rx_capacity(const uart *u) { return fifo_on(u) ? UART_FIFO_SIZE : 1; }

/* The modem inputs: in loopback the chip's own outputs (RTS->CTS, DTR->DSR, OUT1->RI,
 * OUT2->DCD), otherwise the cable's. */
static uint8_t modem_inputs(const uart *u)
{
    if (!loopback(u))
        return MSR_CABLE;
    uint8_t m = u->mcr;
    return (uint8_t)((m & MCR_RTS ? MSR_CTS : 0) | (m & MCR_DTR ? MSR_DSR : 0) | (m & MCR_OUT1 ? MSR_RI : 0) |
                     (m & MCR_OUT2 ? MSR_DCD : 0));
}

/* The delta bits a change of the modem inputs sets: any change of CTS, DSR, DCD; RI's
 * trailing edge only. */
static uint8_t modem_deltas(uint8_t before, uint8_t after)
{
    uint8_t changed = before ^ after;
    return (uint8_t)((changed & MSR_CTS ? MSR_DCTS : 0) | (changed & MSR_DSR ? MSR_DDSR : 0) |
                     ((before & MSR_RI) && !(after & MSR_RI) ? MSR_TERI : 0) | (changed & MSR_DCD ? MSR_DDCD : 0));
}

/* The highest-priority pending source, as IIR bits 0-3 (IIR_NO_INT if none). */
static uint8_t interrupt_id(const uart *u)
{
    if ((u->ier & IER_RLSI) && u->lsr_errors)
        return IIR_RLSI;
    if ((u->ier & IER_RDI) && u->rx_count)
        return fifo_on(u) && u->rx_count < rx_trigger[u->fcr >> 6] ? IIR_TIMEOUT : IIR_RDI;
    if ((u->ier & IER_THRI) && u->thre_pending)
        return IIR_THRI;
    if ((u->ier & IER_MSI) && u->msr_delta)
        return IIR_MSI;
    return IIR_NO_INT;
}

/* Drive the interrupt line: a pending source, gated by OUT2 (the PC's IRQ buffer enable),
 * whose pin loopback forces inactive. */
static void update_irq(uart *u, const irq_line *irq)
{
    bool level = interrupt_id(u) != IIR_NO_INT && (u->mcr & MCR_OUT2) && !loopback(u);
    if (level == u->irq_level)
        return;
    u->irq_level = level;
    if (irq)
        irq_set_level(irq, level);
}

/* Move bytes from the wire into the RX FIFO while it has room (the wire is cut in loopback). */
static void rx_refill(uart *u)
{
    while (!loopback(u) && u->in_count && u->rx_count < rx_capacity(u)) {
        u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = u->input[u->in_head];
        u->rx_count++;
        u->in_head = (u->in_head + 1) % UART_INPUT_MAX;
        u->in_count--;
    }
}

static void rx_clear(uart *u)
{
    u->rx_head = 0;
    u->rx_count = 0;
}

/* A byte the transmitter loops back: into the RX FIFO, or an overrun. */
static void rx_loop_byte(uart *u, uint8_t b)
{
    if (u->rx_count < rx_capacity(u)) {
        u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = b;
        u->rx_count++;
        return;
    }
    u->lsr_errors |= LSR_OE;
    if (!fifo_on(u))
        u->rx[u->rx_head] = b; /* the holding register is overwritten; the FIFO keeps its bytes */
}

static uint8_t rx_pop(uart *u)
{
    if (u->rx_count == 0)
        return 0;
    uint8_t b = u->rx[u->rx_head];
    u->rx_head = (uint8_t)((u->rx_head + 1) % UART_FIFO_SIZE);
    u->rx_count--;
    rx_refill(u);
    return b;
}

size_t uart_push_input(uart *u, const irq_line *irq, const uint8_t *data, size_t len)
{
    size_t n = 0;
    while (n < len && u->in_count < UART_INPUT_MAX) {
        u->input[(u->in_head + u->in_count) % UART_INPUT_MAX] = data[n++];
        u->in_count++;
    }
    rx_refill(u);
    update_irq(u, irq);
    return n;
}

static uint8_t read_iir(uart *u)
{
    uint8_t id = interrupt_id(u);
    if (id == IIR_THRI)
        u->thre_pending = false; /* reading IIR acknowledges THR empty when it is the source */
    return (uint8_t)(id | (fifo_on(u) ? IIR_FIFO_ON : 0));
}

static uint8_t read_lsr(uart *u)
{
    uint8_t v = (uint8_t)(LSR_THRE | LSR_TEMT | u->lsr_errors | (u->rx_count ? LSR_DR : 0));
    u->lsr_errors = 0;
    return v;
}

static uint8_t read_msr(uart *u)
{
    uint8_t v = (uint8_t)(modem_inputs(u) | u->msr_delta);
    u->msr_delta = 0;
    return v;
}

uint32_t uart_read(uart *u, const irq_line *irq, uint16_t offset)
{
    bool dlab = u->lcr & LCR_DLAB;
    uint8_t v;
    switch (offset) {
    case UART_RBR_THR: v = dlab ? (uint8_t)(u->divisor & 0xFF) : rx_pop(u); break;
    case UART_IER: v = dlab ? (uint8_t)(u->divisor >> 8) : u->ier; break;
    case UART_IIR_FCR: v = read_iir(u); break;
    case UART_LCR: v = u->lcr; break;
    case UART_MCR: v = u->mcr; break;
    case UART_LSR: v = read_lsr(u); break;
    case UART_MSR: v = read_msr(u); break;
    case UART_SCR: v = u->scr; break;
    default: return 0;
    }
    update_irq(u, irq);
    return v;
}

/* THR: the byte leaves at once (or loops back), so THR is empty again and its interrupt is
 * pending anew. */
static int write_thr(uart *u, uint8_t v)
{
    u->tx_bytes++;
    u->thre_pending = true;
    if (!loopback(u))
        return v;
    rx_loop_byte(u, v);
    return UART_NO_TX;
}

static void write_ier(uart *u, uint8_t v)
{
    uint8_t old = u->ier;
    u->ier = v & IER_MASK;
    if (!(old & IER_THRI) && (u->ier & IER_THRI))
        u->thre_pending = true; /* enabling it while THR is empty (always, here) raises it */
}

static void write_fcr(uart *u, uint8_t v)
{
    bool toggled = (v ^ u->fcr) & FCR_ENABLE;
    if (toggled || ((v & FCR_ENABLE) && (v & FCR_CLEAR_RX)))
        rx_clear(u); /* the TX FIFO is always empty: transmission is instant */
    /* With the enable bit clear the other bits are not programmed (16550A datasheet). */
    u->fcr = v & FCR_ENABLE ? (uint8_t)(v & (FCR_ENABLE | FCR_DMA | FCR_TRIGGER)) : 0;
    rx_refill(u);
}

static void write_mcr(uart *u, uint8_t v)
{
    uint8_t before = modem_inputs(u);
    u->mcr = v & MCR_MASK;
    u->msr_delta |= modem_deltas(before, modem_inputs(u));
    rx_refill(u); /* leaving loopback reconnects the wire */
}

int uart_write(uart *u, const irq_line *irq, uint16_t offset, uint32_t value)
{
    uint8_t v = (uint8_t)value;
    bool dlab = u->lcr & LCR_DLAB;
    int tx = UART_NO_TX;
    switch (offset) {
    case UART_RBR_THR:
        if (dlab)
            u->divisor = (uint16_t)((u->divisor & 0xFF00) | v);
        else
            tx = write_thr(u, v);
        break;
    case UART_IER:
        if (dlab)
            u->divisor = (uint16_t)((u->divisor & 0x00FF) | (v << 8));
        else
            write_ier(u, v);
        break;
    case UART_IIR_FCR: write_fcr(u, v); break;
    case UART_LCR: u->lcr = v; break;
    case UART_MCR: write_mcr(u, v); break;
    case UART_SCR: u->scr = v; break;
    default: break; /* LSR and MSR are read-only (factory test writes are not modelled) */
    }
    update_irq(u, irq);
    return tx;
}

/* A ring's bytes in order, from its head. */
static void put_ring(state_writer *w, const uint8_t *ring, size_t cap, size_t head, size_t count)
{
    size_t first = cap - head < count ? cap - head : count;
    state_put_bytes(w, ring + head, first);
    state_put_bytes(w, ring, count - first);
}

void uart_serialise(const uart *u, state_writer *w)
{
    state_put_u8(w, u->ier);
    state_put_u8(w, u->lcr);
    state_put_u8(w, u->mcr);
    state_put_u8(w, u->scr);
    state_put_u8(w, u->fcr);
    state_put_u8(w, u->lsr_errors);
    state_put_u8(w, u->msr_delta);
    state_put_bool(w, u->thre_pending);
    state_put_bool(w, u->irq_level);
    state_put_u16(w, u->divisor);
    state_put_u8(w, u->rx_count);
    put_ring(w, u->rx, UART_FIFO_SIZE, u->rx_head, u->rx_count);
    state_put_u32(w, (uint32_t)u->in_count);
    put_ring(w, u->input, UART_INPUT_MAX, u->in_head, u->in_count);
    state_put_u64(w, u->tx_bytes);
}
