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

/* Native calls: the slot runs the instruction; these only fill the log's result. */
void rom_peek_cr0(struct machine *m, rom_frame *f);
void rom_peek_cr2(struct machine *m, rom_frame *f);
void rom_peek_cr3(struct machine *m, rom_frame *f);
void rom_peek_cr4(struct machine *m, rom_frame *f);
void rom_peek_ldt(struct machine *m, rom_frame *f);
void rom_peek_tr(struct machine *m, rom_frame *f);
void rom_peek_flags(struct machine *m, rom_frame *f);

void rom_do_write_desc(struct machine *m, rom_frame *f);
void rom_do_update_kernel_stack(struct machine *m, rom_frame *f);
void rom_do_set_dr(struct machine *m, rom_frame *f);
void rom_do_get_dr(struct machine *m, rom_frame *f);
void rom_do_rdpmc(struct machine *m, rom_frame *f);
void rom_do_set_ap_state(struct machine *m, rom_frame *f);
void rom_do_set_lazy_mode(struct machine *m, rom_frame *f);

void rom_do_set_pxe(struct machine *m, rom_frame *f);
void rom_do_set_pxe_long(struct machine *m, rom_frame *f);
void rom_do_update_pxe(struct machine *m, rom_frame *f);
void rom_do_allocate_page(struct machine *m, rom_frame *f);
void rom_do_release_page(struct machine *m, rom_frame *f);
void rom_do_set_linear_mapping(struct machine *m, rom_frame *f);
void rom_do_identity(struct machine *m, rom_frame *f);

void rom_do_set_alarm(struct machine *m, rom_frame *f);
void rom_do_cancel_alarm(struct machine *m, rom_frame *f);
void rom_do_apic_write(struct machine *m, rom_frame *f);
void rom_do_apic_read(struct machine *m, rom_frame *f);

void rom_do_rdtsc(struct machine *m, rom_frame *f);
void rom_do_cycle_frequency(struct machine *m, rom_frame *f);
void rom_do_cycle_counter(struct machine *m, rom_frame *f);
void rom_do_wallclock(struct machine *m, rom_frame *f);
void rom_do_wallclock_updated(struct machine *m, rom_frame *f);

#endif
