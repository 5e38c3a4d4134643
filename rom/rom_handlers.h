/* Implementations of the VMI calls, grouped by subject; the table in rom_calls.c names them. */
#ifndef VMIEMU_ROM_HANDLERS_H
#define VMIEMU_ROM_HANDLERS_H

#include "rom/rom.h"

struct machine;

void rom_do_init(struct machine *m, rom_frame *f);
void rom_do_get_reloc(struct machine *m, rom_frame *f);
void rom_do_cpuid(struct machine *m, rom_frame *f);
void rom_do_iodelay(struct machine *m, rom_frame *f);
void rom_do_halt(struct machine *m, rom_frame *f);
void rom_do_reboot(struct machine *m, rom_frame *f);
void rom_do_shutdown(struct machine *m, rom_frame *f);
void rom_do_native(struct machine *m, rom_frame *f);

void rom_do_rdtsc(struct machine *m, rom_frame *f);
void rom_do_cycle_frequency(struct machine *m, rom_frame *f);
void rom_do_cycle_counter(struct machine *m, rom_frame *f);
void rom_do_wallclock(struct machine *m, rom_frame *f);
void rom_do_wallclock_updated(struct machine *m, rom_frame *f);

#endif
