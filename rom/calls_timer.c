/* Alarms and the local APIC: the calls Linux's VMI timer uses. Each one that changes when the
 * next interrupt can arrive asks the machine to re-plan after the call. */
#include "rom/rom_handlers.h"

/* SetAlarm(flags EAX, expiry EDX:ECX, period [esp+4]:[esp+8]). */
void rom_do_set_alarm(rom_ctx *x, rom_frame *f)
{
    uint64_t expiry = (uint64_t)f->args[2] << 32 | f->args[1];
    uint64_t period = (uint64_t)f->args[4] << 32 | f->args[3];
    if (!x->svc->alarm_set(x->o, f->args[0], expiry, period))
        f->failed = true;
    x->svc->request(x->o, ROM_REQ_REPLAN);
}

void rom_do_cancel_alarm(rom_ctx *x, rom_frame *f)
{
    f->result = x->svc->alarm_cancel(x->o, f->args[0]) ? 1 : 0;
    x->svc->request(x->o, ROM_REQ_REPLAN);
}

void rom_do_apic_write(rom_ctx *x, rom_frame *f)
{
    /* Not a register offset: ignored, as writes to reserved registers are. An IPI (ICR write)
     * is stored but not sent: vmiemu runs one CPU. Both are logged as failed calls. */
    if (!x->svc->apic_write(x->o, f->args[0], f->args[1]))
        f->failed = true;
    x->svc->request(x->o, ROM_REQ_REPLAN); /* EOI, TPR or the timer may let an interrupt through */
}

void rom_do_apic_read(rom_ctx *x, rom_frame *f)
{
    uint32_t v = 0;
    if (!x->svc->apic_read(x->o, f->args[0], &v))
        f->failed = true;
    f->result = v;
}
