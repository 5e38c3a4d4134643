#include "pit.h"

#include "io.h"

#define PIT_CH0 0x40
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PORT_B 0x61      /* bit 0: channel 2 gate; bit 1: speaker; bit 5: channel 2 output */
#define CMD_CH0 0x00
#define CMD_CH2 0x80
#define CMD_LOHI 0x30
#define CMD_MODE0 0x00
#define CMD_MODE2 0x04

static void load(uint16_t port, uint32_t ticks)
{
    outb(port, (uint8_t)ticks); /* 65536 is written as 0 */
    outb(port, (uint8_t)(ticks >> 8));
}

void pit_periodic(uint32_t ticks)
{
    outb(PIT_CMD, CMD_CH0 | CMD_LOHI | CMD_MODE2);
    load(PIT_CH0, ticks);
}

void pit_oneshot(uint32_t ticks)
{
    outb(PIT_CMD, CMD_CH0 | CMD_LOHI | CMD_MODE0);
    load(PIT_CH0, ticks);
}

void pit_stop(void) { outb(PIT_CMD, CMD_CH0 | CMD_LOHI | CMD_MODE0); }

void pit_disable(void) { outb(PIT_CMD, 0x3A); }

void pit_ch2_start(uint16_t ticks)
{
    outb(PORT_B, (uint8_t)((inb(PORT_B) & ~0x02) | 0x01));
    outb(PIT_CMD, CMD_CH2 | CMD_LOHI | CMD_MODE0);
    load(PIT_CH2, ticks);
}

bool pit_ch2_done(void) { return inb(PORT_B) & 0x20; }
