/* Time: one instruction is one cycle at --cpu-mhz; every counter and the wall clock derive
 * from the machine's cycle count, never from the host clock. */
#include "emu/machine.h"
#include "rom/rom_handlers.h"

enum { COUNTER_REAL = 0, COUNTER_AVAILABLE = 1, COUNTER_STOLEN = 2 };

void rom_do_rdtsc(machine *m, rom_frame *f)
{
    f->result = machine_cycles(m);
}

void rom_do_cycle_frequency(machine *m, rom_frame *f)
{
    f->result = machine_cycle_hz(m);
}

/* Real: cycles since boot. Available: the cycles this CPU could run; nothing steals time
 * from a vmiemu guest, so it equals real. Stolen: always 0. */
void rom_do_cycle_counter(machine *m, rom_frame *f)
{
    switch (f->args[0]) {
    case COUNTER_REAL:
    case COUNTER_AVAILABLE:
        f->result = machine_cycles(m);
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

void rom_do_wallclock(machine *m, rom_frame *f)
{
    f->result = machine_wall_ns(m);
}

/* Nothing ever sets the guest's clock behind its back, so it has never been updated. */
void rom_do_wallclock_updated(machine *m, rom_frame *f)
{
    (void)m;
    f->result = 0;
}
