/* Alarms and the local APIC: the calls Linux's VMI timer uses. Each one that changes when the
 * next interrupt can arrive asks the CPU to stop after the call, so the machine re-plans. */
#include "emu/machine.h"
#include "rom/rom_handlers.h"

/* SetAlarm(flags EAX, expiry EDX:ECX, period [esp+4]:[esp+8]). */
void rom_do_set_alarm(machine *m, rom_frame *f)
{
    uint64_t expiry = (uint64_t)f->args[2] << 32 | f->args[1];
    uint64_t period = (uint64_t)f->args[4] << 32 | f->args[3];
    if (!alarms_set(&m->alarms, f->args[0], expiry, period))
        f->failed = true;
    vcpu_request_stop(m->cpu);
}

void rom_do_cancel_alarm(machine *m, rom_frame *f)
{
    f->result = alarms_cancel(&m->alarms, f->args[0]) ? 1 : 0;
    vcpu_request_stop(m->cpu);
}

void rom_do_apic_write(machine *m, rom_frame *f)
{
    /* Not a register offset: ignored, as writes to reserved registers are. An IPI (ICR write)
     * is stored but not sent: vmiemu runs one CPU. Both are logged as failed calls. */
    if (apic_write(&m->lapic, f->args[0], f->args[1]) != APIC_OK)
        f->failed = true;
    vcpu_request_stop(m->cpu); /* EOI, TPR or the timer may let an interrupt through */
}

void rom_do_apic_read(machine *m, rom_frame *f)
{
    uint32_t v = 0;
    if (!apic_read(&m->lapic, f->args[0], &v))
        f->failed = true;
    f->result = v;
}
