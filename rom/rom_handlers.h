/* Implementations of the VMI calls, grouped by subject; the table in rom_calls.c names them. */
#ifndef VMIEMU_ROM_HANDLERS_H
#define VMIEMU_ROM_HANDLERS_H

#include "rom/rom.h"

void rom_do_init(rom_ctx *x, rom_frame *f);
void rom_do_get_reloc(rom_ctx *x, rom_frame *f);
void rom_do_cpuid(rom_ctx *x, rom_frame *f);
void rom_do_iodelay(rom_ctx *x, rom_frame *f);
void rom_do_halt(rom_ctx *x, rom_frame *f);
void rom_do_reboot(rom_ctx *x, rom_frame *f);
void rom_do_shutdown(rom_ctx *x, rom_frame *f);

void rom_do_write_desc(rom_ctx *x, rom_frame *f);
void rom_do_update_kernel_stack(rom_ctx *x, rom_frame *f);
void rom_do_set_dr(rom_ctx *x, rom_frame *f);
void rom_do_get_dr(rom_ctx *x, rom_frame *f);
void rom_do_rdpmc(rom_ctx *x, rom_frame *f);
void rom_do_set_ap_state(rom_ctx *x, rom_frame *f);
void rom_do_set_lazy_mode(rom_ctx *x, rom_frame *f);

void rom_do_update_pxe(rom_ctx *x, rom_frame *f);
void rom_do_allocate_page(rom_ctx *x, rom_frame *f);
void rom_do_release_page(rom_ctx *x, rom_frame *f);
void rom_do_set_linear_mapping(rom_ctx *x, rom_frame *f);
void rom_do_identity(rom_ctx *x, rom_frame *f);

void rom_do_set_alarm(rom_ctx *x, rom_frame *f);
void rom_do_cancel_alarm(rom_ctx *x, rom_frame *f);
void rom_do_apic_write(rom_ctx *x, rom_frame *f);
void rom_do_apic_read(rom_ctx *x, rom_frame *f);

void rom_do_rdtsc(rom_ctx *x, rom_frame *f);
void rom_do_cycle_frequency(rom_ctx *x, rom_frame *f);
void rom_do_cycle_counter(rom_ctx *x, rom_frame *f);
void rom_do_wallclock(rom_ctx *x, rom_frame *f);
void rom_do_wallclock_updated(rom_ctx *x, rom_frame *f);

#endif
