/* IF rising, as Unicorn's helpers see it.
 *
 * Why: while an interrupt waits for IF (irq_window), the CPU must stop at the first block
 * boundary with IF set. Looking at IF at every block start sent every block down the block
 * hook's slow path for the whole interrupts-off stretch: a kernel spinning with interrupts off
 * and a timer waiting (callloop irqflags past its first PIT tick) ran half its time there.
 * Only a few instructions can set IF, and each is a helper call that ends its translated
 * block, so the block after it is exactly where the old check would have stopped.
 *
 * How: the link wraps those helpers (CMakeLists.txt) with trampolines (helper_wrap.h) that
 * mark the watching CPU before the real helper runs (a helper that faults changed nothing, and
 * the look then finds IF as it was). The host's own EFLAGS writes mark it in cpu.c (vcpu_set,
 * and at each run's start). */
#include "cpu/ifwatch.h"

#include "cpu/cpu_internal.h"
#include "cpu/helper_wrap.h"

static _Thread_local cpu *watcher;

void vcpu_ifwatch(cpu *c, bool on)
{
    if (on)
        watcher = c;
    else if (watcher == c)
        watcher = NULL;
}

/* Called first by every wrapped helper (helper_wrap.h). */
void vcpu_ifwatch_may_rise(void);
void vcpu_ifwatch_may_rise(void)
{
    cpu *c = watcher;
    if (c && c->irq_window) {
        c->if_rose = true;
        c->limit = 0;
    }
}

VCPU_HELPER_WRAP_BEFORE(helper_sti_x86_64, vcpu_ifwatch_may_rise);
VCPU_HELPER_WRAP_BEFORE(helper_write_eflags_x86_64, vcpu_ifwatch_may_rise);
VCPU_HELPER_WRAP_BEFORE(helper_iret_real_x86_64, vcpu_ifwatch_may_rise);
VCPU_HELPER_WRAP_BEFORE(helper_iret_protected_x86_64, vcpu_ifwatch_may_rise);
VCPU_HELPER_WRAP_BEFORE(helper_ljmp_protected_x86_64, vcpu_ifwatch_may_rise);
VCPU_HELPER_WRAP_BEFORE(helper_lcall_protected_x86_64, vcpu_ifwatch_may_rise);
VCPU_HELPER_WRAP_BEFORE(helper_sysret_x86_64, vcpu_ifwatch_may_rise);
VCPU_HELPER_WRAP_BEFORE(helper_rsm_x86_64, vcpu_ifwatch_may_rise);
VCPU_HELPER_WRAP_BEFORE(helper_vmrun_x86_64, vcpu_ifwatch_may_rise);
