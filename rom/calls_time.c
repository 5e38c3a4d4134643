/* Time: one instruction is one cycle at --cpu-mhz; every counter and the wall clock derive
 * from the machine's cycle count, never from the host clock. */
#include "rom/rom_handlers.h"

enum { COUNTER_REAL = 0, COUNTER_AVAILABLE = 1, COUNTER_STOLEN = 2 };

void rom_do_rdtsc(rom_ctx *x, rom_frame *f)
{
    f->result = x->svc->cycles(x->o);
}

void rom_do_cycle_frequency(rom_ctx *x, rom_frame *f)
{
    f->result = x->svc->cycle_hz(x->o);
}

/* Real: cycles since boot. Available: the cycles this CPU could run; nothing steals time
 * from a vmiemu guest, so it equals real. Stolen: always 0. */
void rom_do_cycle_counter(rom_ctx *x, rom_frame *f)
{
    switch (f->args[0]) {
    case COUNTER_REAL:
    case COUNTER_AVAILABLE:
        f->result = x->svc->cycles(x->o);
        break;
    case COUNTER_STOLEN:
        f->result = 0;
        break;
    default:
        f->result = 0;
        f->failed = true; /* no such counter: 0, and the log says the call failed */
        break;
    }
}

void rom_do_wallclock(rom_ctx *x, rom_frame *f)
{
    f->result = x->svc->wall_ns(x->o);
}

/* Nothing ever sets the guest's clock behind its back, so it has never been updated. */
void rom_do_wallclock_updated(rom_ctx *x, rom_frame *f)
{
    (void)x;
    f->result = 0;
}
