#include "emu/i8042.h"

#include <string.h>

#define KBD_ACK 0xFAu
#define KBD_RESEND 0xFEu
#define KBD_BAT_OK 0xAAu
#define CTL_SELFTEST_OK 0x55u
#define AUX_NO_DEVICE 0xFEu
#define INPUT_PORT 0x80u /* bit 7: keyboard not inhibited; no jumpers */

static bool queue_push(i8042_queue *q, uint16_t item)
{
    if (q->count == I8042_QUEUE)
        return false;
    q->item[(q->head + q->count) % I8042_QUEUE] = item;
    q->count++;
    return true;
}

static uint16_t queue_pop(i8042_queue *q)
{
    uint16_t item = q->item[q->head];
    q->head = (uint8_t)((q->head + 1) % I8042_QUEUE);
    q->count--;
    return item;
}

static uint8_t ctr(const i8042 *k) { return k->ram[0]; }

/* Each output drives its line while the buffer holds a byte of its kind and the command byte
 * enables its interrupt. */
static void update_irqs(const i8042 *k, const i8042_irqs *irqs)
{
    bool aux = k->out >> 8 & I8042_STR_AUXDATA;
    irq_set_level(&irqs->kbd, k->obf && !aux && (ctr(k) & I8042_CTR_KBDINT));
    irq_set_level(&irqs->aux, k->obf && aux && (ctr(k) & I8042_CTR_AUXINT));
}

/* Move the next waiting byte into an empty output buffer: the controller's replies first,
 * then the keyboard's, unless its port is disabled. */
static void refill(i8042 *k, const i8042_irqs *irqs)
{
    if (!k->obf) {
        if (k->ctl.count) {
            k->out = queue_pop(&k->ctl);
            k->obf = true;
        } else if (k->kbd.count && !(ctr(k) & I8042_CTR_KBDDIS)) {
            k->out = queue_pop(&k->kbd);
            k->obf = true;
        }
    }
    update_irqs(k, irqs);
}

static void reply(i8042 *k, uint8_t byte, uint8_t status_bits)
{
    queue_push(&k->ctl, (uint16_t)(byte | status_bits << 8));
}

static void kbd_reply(i8042 *k, uint8_t byte) { queue_push(&k->kbd, byte); }

static void kbd_defaults(i8042 *k)
{
    k->kbd_cmd = 0;
    k->kbd_set = 2;
    k->kbd_leds = 0;
    k->kbd_rate = 0x2B; /* 10.9 characters a second after 500 ms */
}

void i8042_init(i8042 *k)
{
    memset(k, 0, sizeof *k);
    k->status = I8042_STR_SYS | I8042_STR_UNLOCK;
    k->ram[0] = I8042_CTR_KBDINT | I8042_CTR_SYS | I8042_CTR_AUXDIS | I8042_CTR_XLATE;
    k->outport = I8042_OUT_RESET | I8042_OUT_A20;
    k->kbd_scanning = true;
    kbd_defaults(k);
}

uint8_t i8042_read_status(const i8042 *k)
{
    uint8_t s = k->status;
    if (k->obf)
        s |= (uint8_t)(I8042_STR_OBF | (k->out >> 8 & (I8042_STR_AUXDATA | I8042_STR_TIMEOUT)));
    return s;
}

uint8_t i8042_read_data(i8042 *k, const i8042_irqs *irqs)
{
    uint8_t v = (uint8_t)k->out; /* an empty buffer reads its last byte again */
    if (k->obf) {
        k->obf = false;
        update_irqs(k, irqs); /* the line falls, so the next byte is a new edge */
        refill(k, irqs);
    }
    return v;
}

/* The output port as read by 0xD0: what was written, plus which kind of byte fills the
 * output buffer (bits 4 and 5). */
static uint8_t read_outport(const i8042 *k)
{
    uint8_t v = (uint8_t)(k->outport & ~0x30u);
    if (k->obf)
        v |= (k->out >> 8 & I8042_STR_AUXDATA) ? 0x20u : 0x10u;
    return v;
}

static i8042_effect write_outport(i8042 *k, uint8_t v)
{
    k->outport = v;
    return (v & I8042_OUT_RESET) ? I8042_NONE : I8042_RESET;
}

/* Controller commands that set or clear command-byte bits, or answer one byte. */
typedef struct ctl_simple {
    uint8_t cmd;
    uint8_t set, clear; /* command-byte bits */
    int16_t reply;      /* -1: none */
} ctl_simple;

static const ctl_simple ctl_simple_table[] = {
    {0xA7, I8042_CTR_AUXDIS, 0, -1},               /* disable the AUX port */
    {0xA8, 0, I8042_CTR_AUXDIS, -1},               /* enable the AUX port */
    {0xA9, 0, 0, 0x00},                            /* AUX interface test: no error */
    {0xAA, 0, 0, CTL_SELFTEST_OK},                 /* controller self-test */
    {0xAB, 0, 0, 0x00},                            /* keyboard interface test: no error */
    {0xAD, I8042_CTR_KBDDIS, 0, -1},               /* disable the keyboard port */
    {0xAE, 0, I8042_CTR_KBDDIS, -1},               /* enable the keyboard port */
    {0xC0, 0, 0, INPUT_PORT},                      /* read the input port */
    {0xE0, 0, 0, 0x00},                            /* read the test inputs */
};

i8042_effect i8042_write_command(i8042 *k, const i8042_irqs *irqs, uint8_t v)
{
    i8042_effect effect = I8042_NONE;
    k->status |= I8042_STR_CMD;
    k->pending = 0;
    if (v >= 0x20 && v <= 0x3F) {
        reply(k, k->ram[v & 0x1F], 0);
    } else if ((v >= 0x60 && v <= 0x7F) || (v >= 0xD1 && v <= 0xD4)) {
        k->pending = v; /* the next data-port byte is its argument */
    } else if (v == 0xD0) {
        reply(k, read_outport(k), 0);
    } else if (v == 0xDD || v == 0xDF) {
        k->outport = (uint8_t)((k->outport & ~I8042_OUT_A20) | (v == 0xDF ? I8042_OUT_A20 : 0));
    } else if (v >= 0xF0) {
        /* Pulse the output lines whose bits are 0 in the low nibble; line 0 is the reset. */
        if (!(v & I8042_OUT_RESET))
            effect = I8042_RESET;
    } else {
        for (size_t i = 0; i < sizeof ctl_simple_table / sizeof ctl_simple_table[0]; i++) {
            const ctl_simple *c = &ctl_simple_table[i];
            if (c->cmd != v)
                continue;
            k->ram[0] = (uint8_t)((k->ram[0] | c->set) & ~c->clear);
            if (c->reply >= 0)
                reply(k, (uint8_t)c->reply, 0);
            if (v == 0xAA)
                k->status |= I8042_STR_SYS;
            break;
        } /* anything else is ignored, as by controllers without that command */
    }
    refill(k, irqs);
    return effect;
}

/* Keyboard commands without a parameter, and the bytes each answers. */
typedef struct kbd_simple {
    uint8_t cmd;
    uint8_t n, reply[3];
} kbd_simple;

static const kbd_simple kbd_simple_table[] = {
    {0xEE, 1, {0xEE}},          /* echo */
    {0xF4, 1, {KBD_ACK}},       /* enable scanning */
    {0xF5, 1, {KBD_ACK}},       /* disable scanning, defaults */
    {0xF6, 1, {KBD_ACK}},       /* defaults */
    {0xF7, 1, {KBD_ACK}},       /* set-3 key modes: accepted, */
    {0xF8, 1, {KBD_ACK}},       /* no effect on a keyboard */
    {0xF9, 1, {KBD_ACK}},       /* that sends no keys yet */
    {0xFA, 1, {KBD_ACK}},
    {0xFE, 1, {KBD_ACK}},       /* resend: nothing was lost */
    {0xFF, 2, {KBD_ACK, KBD_BAT_OK}}, /* reset and self-test (BAT) */
};

/* A byte for the keyboard: a command, or the parameter of the one before. */
static void kbd_write(i8042 *k, uint8_t v)
{
    if (k->kbd_cmd) {
        uint8_t cmd = k->kbd_cmd;
        k->kbd_cmd = 0;
        if (cmd == 0xED) {
            k->kbd_leds = v & 7;
        } else if (cmd == 0xF3) {
            k->kbd_rate = v & 0x7F;
        } else if (v >= 1 && v <= 3) { /* 0xF0: select a set */
            k->kbd_set = v;
        } else if (v == 0) {           /* 0xF0 0: which set */
            kbd_reply(k, KBD_ACK);
            kbd_reply(k, k->kbd_set);
            return;
        } else {
            kbd_reply(k, KBD_RESEND);
            return;
        }
        kbd_reply(k, KBD_ACK);
        return;
    }
    if (v == 0xED || v == 0xF0 || v == 0xF3) {
        k->kbd_cmd = v;
        kbd_reply(k, KBD_ACK);
        return;
    }
    if (v == 0xF2) { /* identify: an MF2 keyboard, its ID translated like its keys */
        kbd_reply(k, KBD_ACK);
        kbd_reply(k, 0xAB);
        kbd_reply(k, (ctr(k) & I8042_CTR_XLATE) ? 0x41 : 0x83);
        return;
    }
    for (size_t i = 0; i < sizeof kbd_simple_table / sizeof kbd_simple_table[0]; i++) {
        const kbd_simple *c = &kbd_simple_table[i];
        if (c->cmd != v)
            continue;
        if (v == 0xF4 || v == 0xF5)
            k->kbd_scanning = v == 0xF4;
        if (v == 0xF5 || v == 0xF6 || v == 0xFF)
            kbd_defaults(k);
        if (v == 0xFF)
            k->kbd_scanning = true;
        for (int j = 0; j < c->n; j++)
            kbd_reply(k, c->reply[j]);
        return;
    }
    kbd_reply(k, KBD_RESEND);
}

i8042_effect i8042_write_data(i8042 *k, const i8042_irqs *irqs, uint8_t v)
{
    i8042_effect effect = I8042_NONE;
    uint8_t cmd = k->pending;
    k->pending = 0;
    k->status &= (uint8_t)~I8042_STR_CMD;
    if (cmd >= 0x60 && cmd <= 0x7F) {
        k->ram[cmd & 0x1F] = v;
        if (cmd == 0x60) /* the command byte's system flag shows in the status register */
            k->status = (uint8_t)((k->status & ~I8042_STR_SYS) | (v & I8042_CTR_SYS));
    } else if (cmd == 0xD1) {
        effect = write_outport(k, v);
    } else if (cmd == 0xD2) {
        reply(k, v, 0);                 /* as if the keyboard sent it */
    } else if (cmd == 0xD3) {
        reply(k, v, I8042_STR_AUXDATA); /* as if the AUX device sent it: the loopback */
    } else if (cmd == 0xD4) {
        reply(k, AUX_NO_DEVICE, I8042_STR_AUXDATA | I8042_STR_TIMEOUT); /* nothing plugged in */
    } else {
        kbd_write(k, v);
    }
    refill(k, irqs);
    return effect;
}

size_t i8042_kbd_push(i8042 *k, const i8042_irqs *irqs, const uint8_t *bytes, size_t n)
{
    size_t taken = 0;
    while (taken < n && k->kbd_scanning && queue_push(&k->kbd, bytes[taken]))
        taken++;
    refill(k, irqs);
    return taken;
}

static void queue_serialise(const i8042_queue *q, state_writer *w)
{
    state_put_u8(w, q->count);
    for (uint8_t i = 0; i < q->count; i++) /* only the waiting bytes, oldest first */
        state_put_u16(w, q->item[(q->head + i) % I8042_QUEUE]);
}

void i8042_serialise(const i8042 *k, state_writer *w)
{
    state_put_u8(w, k->status);
    state_put_bytes(w, k->ram, sizeof k->ram);
    state_put_u8(w, k->outport);
    state_put_u8(w, k->pending);
    state_put_bool(w, k->obf);
    state_put_u16(w, k->out);
    queue_serialise(&k->ctl, w);
    queue_serialise(&k->kbd, w);
    state_put_u8(w, k->kbd_cmd);
    state_put_bool(w, k->kbd_scanning);
    state_put_u8(w, k->kbd_set);
    state_put_u8(w, k->kbd_leds);
    state_put_u8(w, k->kbd_rate);
}
