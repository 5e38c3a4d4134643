#include "emu/port92.h"

void port92_init(port92 *p) { p->value = PORT92_A20; }

uint8_t port92_read(const port92 *p) { return p->value; }

bool port92_write(port92 *p, uint8_t v)
{
    bool rising = (v & PORT92_RESET) && !(p->value & PORT92_RESET);
    p->value = v;
    return rising;
}

void port92_serialise(const port92 *p, state_writer *w) { state_put_u8(w, p->value); }
