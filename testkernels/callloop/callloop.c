/* callloop: `iters=N` (default 1000000) calls of GetCycleCounter(real) through the VMI
 * wrapper -- a ROM call each when the ROM provides it, rdtsc natively -- checking that the
 * counter never goes backwards. Measures the cost of a hypercall round trip.
 * `irqflags`: instead, per iteration the interrupt-flag calls of Linux's local_irq_save and
 * local_irq_restore (GetInterruptMask, DisableInterrupts, SetInterruptMask: 3 calls, natively
 * pushf/pop, cli, push/popf), checking that the mask reads back IF clear: the cost of the
 * calls a kernel makes most (scripts/bench.sh's per-event costs). */
#include <stdint.h>

#include "exit.h"
#include "kprintf.h"
#include "multiboot.h"
#include "serial.h"
#include "vmi.h"

#define DEFAULT_ITERS 1000000u

void kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    serial_init();
    const char *cmdline = mb_cmdline(magic, mbi);
    uint32_t iters = DEFAULT_ITERS;
    if (mb_cmdline_u32(cmdline, "iters", &iters) < 0) {
        kprintf("callloop: bad iters= value in \"%s\"\n", cmdline);
        test_exit(TEST_FAIL);
    }

    if (vmi_probe()) {
        const int32_t rc = vmi_init();
        kprintf("callloop: VMI ROM at 0x%08x, init %d\n", vmi_rom_base(), rc);
        if (rc != 0)
            test_exit(TEST_FAIL);
    } else {
        kprintf("callloop: no VMI ROM: running natively\n");
    }
    if (mb_cmdline_has(cmdline, "irqflags")) {
        uint32_t set = 0;
        for (uint32_t i = 0; i < iters; i++) {
            const uint32_t flags = vmi_get_interrupt_mask();
            vmi_disable_interrupts();
            vmi_set_interrupt_mask(flags);
            set += (flags & 0x200u) != 0;
        }
        kprintf("callloop: %u x 3 interrupt-flag calls via %s, IF set %u times\n", iters,
                vmi_has(VMI_CALL_GetInterruptMask) ? "the ROM" : "pushf/cli/popf", set);
        if (set) {
            kprintf("callloop: FAIL (interrupts were on)\n");
            test_exit(TEST_FAIL);
        }
        kprintf("callloop: PASS\n");
        test_exit(TEST_PASS);
    }
    kprintf("callloop: GetCycleCounter via %s\n",
            vmi_has(VMI_CALL_GetCycleCounter) ? "the ROM" : "rdtsc");

    const uint64_t first = vmi_get_cycle_counter(VMI_CYCLES_REAL);
    uint64_t prev = first;
    uint32_t backwards = 0;
    for (uint32_t i = 0; i < iters; i++) {
        const uint64_t now = vmi_get_cycle_counter(VMI_CYCLES_REAL);
        if (now < prev && backwards++ == 0)
            kprintf("callloop: counter went back at call %u: %llu -> %llu\n", i, prev, now);
        prev = now;
    }
    kprintf("callloop: %u calls\n", iters);
    kprintf("callloop: counter %llu -> %llu\n", first, prev);
    if (backwards) {
        kprintf("callloop: FAIL (counter went backwards %u times)\n", backwards);
        test_exit(TEST_FAIL);
    }
    kprintf("callloop: PASS\n");
    test_exit(TEST_PASS);
}
