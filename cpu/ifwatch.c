/* IF rising, as Unicorn's helpers see it.
 *
 * Why: while an interrupt waits for IF (irq_window), the CPU must stop at the first block
 * boundary with IF set. Looking at IF at every block start sent every block down the block
 * hook's slow path for the whole interrupts-off stretch: a kernel spinning with interrupts off
 * and a timer waiting (callloop irqflags past its first PIT tick) ran half its time there.
 * Only a few instructions can set IF, and each is a helper call that ends its translated
 * block, so the block after it is exactly where the old check would have stopped.
 *
 * How: the link wraps those helpers (CMakeLists.txt); each marks the watching CPU before the
 * real helper runs (a helper that faults changed nothing, and the look then finds IF as it
 * was). The host's own EFLAGS writes mark it in cpu.c (vcpu_set, and at each run's start). */
#include "cpu/ifwatch.h"

#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu_internal.h"

static _Thread_local cpu *watcher;

void vcpu_ifwatch(cpu *c, bool on)
{
    if (on)
        watcher = c;
    else if (watcher == c)
        watcher = NULL;
}

static void may_rise(void)
{
    cpu *c = watcher;
    if (c && c->irq_window) {
        c->if_rose = true;
        c->limit = 0;
    }
}

#define WRAP(name, params, args)                                                                                     \
    void __real_helper_##name##_x86_64 params;                                                                       \
    void __wrap_helper_##name##_x86_64 params;                                                                       \
    void __wrap_helper_##name##_x86_64 params                                                                        \
    {                                                                                                                \
        may_rise();                                                                                                  \
        __real_helper_##name##_x86_64 args;                                                                          \
    }

WRAP(sti, (void *env), (env))
WRAP(write_eflags, (void *env, uint64_t t0, uint32_t update_mask), (env, t0, update_mask))
WRAP(iret_real, (void *env, int shift), (env, shift))
WRAP(iret_protected, (void *env, int shift, int next_eip), (env, shift, next_eip))
WRAP(ljmp_protected, (void *env, int new_cs, uint64_t new_eip, uint64_t next_eip), (env, new_cs, new_eip, next_eip))
WRAP(lcall_protected, (void *env, int new_cs, uint64_t new_eip, int shift, uint64_t next_eip),
     (env, new_cs, new_eip, shift, next_eip))
WRAP(sysret, (void *env, int dflag), (env, dflag))
WRAP(rsm, (void *env), (env))
WRAP(vmrun, (void *env, int aflag, int next_eip_addend), (env, aflag, next_eip_addend))
