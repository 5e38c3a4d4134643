#include "fault.h"

#include "cpu.h"
#include "vmi.h"

volatile struct fault_info fault;
volatile uint32_t fault_at, fault_resume;
static fault_fixup fixup;

static void fault_handler(struct trap_frame *f)
{
    uint32_t esp;
    __asm__ volatile("movl %%esp, %0" : "=r"(esp));
    fault.count++;
    fault.vector = f->vector;
    fault.error = f->error;
    fault.eip = f->eip;
    fault.cs = f->cs;
    fault.eflags = f->eflags;
    fault.cr2 = f->vector == TRAP_PF ? vmi_get_cr2() : 0;
    fault.esp = esp;
    fault.user_esp = (f->cs & 3) != (read_cs() & 3) ? f->user_esp : 0;
    if (fixup && fixup(f))
        return;
    if (!fault_resume)
        trap_report(f);
    f->eip = fault_resume;
    f->eflags &= ~(EFLAGS_TF | EFLAGS_NT);
}

void fault_catch(unsigned vector) { trap_set_handler(vector, fault_handler, 0); }
void fault_set_fixup(fault_fixup fn) { fixup = fn; }

void fault_reset(void)
{
    fault.count = fault.vector = fault.error = fault.eip = fault.cs = fault.eflags = 0;
    fault.cr2 = fault.esp = fault.user_esp = 0;
    fault_at = fault_resume = 0;
}
