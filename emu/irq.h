/* An interrupt line as a tiny value (as in TinyEMU): the function that sets the level at the
 * receiving end, its opaque and the input number there. A line whose `set` is NULL goes
 * nowhere, so a device can always drive its line without checking how it was wired. */
#ifndef VMIEMU_IRQ_H
#define VMIEMU_IRQ_H

typedef struct irq_line {
    void (*set)(void *opaque, int n, int level); /* level: 0 low, non-zero high */
    void *opaque;
    int n;
} irq_line;

/* Drive the line to `level` (0 or 1); does nothing on an unconnected line. */
static inline void irq_set_level(const irq_line *l, int level)
{
    if (l->set)
        l->set(l->opaque, l->n, level != 0);
}

static inline void irq_raise(const irq_line *l) { irq_set_level(l, 1); }

static inline void irq_lower(const irq_line *l) { irq_set_level(l, 0); }

#endif
