/* markers: names moments with marker() around a few VMI calls, for vmiemu's marker, diff, stats
 * and timeline tests. `iters=N` (default 3) reads the cycle counter N times between the markers
 * "work start" and "work end"; `variant` reads the wall clock instead of the third read, so two
 * runs differ at one call. `hostile` also passes a pointer past RAM and a name longer than the
 * 32 bytes kept. Runs with and without the VMI ROM; exits 33. */
#include <stdint.h>

#include "exit.h"
#include "kernel.h"
#include "kprintf.h"
#include "marker.h"
#include "multiboot.h"
#include "vmi.h"

void kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    const char *cmdline = mb_cmdline(magic, mbi);
    kernel_start("markers");
    uint32_t iters = 3;
    if (mb_cmdline_u32(cmdline, "iters", &iters) < 0 || iters > 1000) {
        kprintf("markers: bad iters= value in \"%s\"\n", cmdline);
        test_exit(TEST_FAIL);
    }
    const int variant = mb_cmdline_has(cmdline, "variant");
    marker("boot done");
    marker("work start");
    uint64_t sum = 0;
    for (uint32_t i = 0; i < iters; i++)
        sum += variant && i == 2 ? vmi_get_wallclock_time() : vmi_get_cycle_counter(VMI_CYCLES_REAL);
    marker("work end");
    if (mb_cmdline_has(cmdline, "hostile")) {
        marker((const char *)0xFFFFFFF0u);
        marker("a name much longer than the thirty-two bytes a marker keeps");
    }
    kprintf("markers: %u reads, sum %u\n", iters, (uint32_t)sum);
    kprintf("markers: PASS\n");
    test_exit(TEST_PASS);
}
