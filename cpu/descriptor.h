/* i386 segment descriptors and gates, decoded from their 8 raw bytes. */
#ifndef VMIEMU_DESCRIPTOR_H
#define VMIEMU_DESCRIPTOR_H

#include <stdbool.h>
#include <stdint.h>

typedef struct seg_desc {
    uint32_t base;
    uint32_t limit;  /* in bytes, granularity applied */
    uint8_t type;    /* 4-bit type field */
    uint8_t dpl;
    bool system;     /* S = 0: system segment or gate */
    bool present;
    bool big;        /* D/B */
} seg_desc;

typedef struct gate_desc {
    uint16_t selector;
    uint32_t offset;
    uint8_t type;    /* 5 task, 6/7 16-bit interrupt/trap, 0xE/0xF 32-bit interrupt/trap */
    uint8_t dpl;
    bool present;
} gate_desc;

enum {
    GATE_TASK = 0x5,
    GATE_INT16 = 0x6,
    GATE_TRAP16 = 0x7,
    GATE_INT32 = 0xE,
    GATE_TRAP32 = 0xF,
};

void desc_decode(uint64_t raw, seg_desc *d);
void gate_decode(uint64_t raw, gate_desc *g);

static inline bool desc_is_code(const seg_desc *d) { return !d->system && (d->type & 0x8); }
static inline bool desc_is_writable_data(const seg_desc *d) { return !d->system && (d->type & 0xA) == 0x2; }
static inline bool desc_is_conforming(const seg_desc *d) { return desc_is_code(d) && (d->type & 0x4); }

/* "base=0x00000000 limit=0xffffffff type=0xb dpl=0 code P D" style text. */
void desc_format(const seg_desc *d, char *buf, unsigned len);

#endif
