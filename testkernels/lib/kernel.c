#include "kernel.h"

#include "exit.h"
#include "kprintf.h"
#include "serial.h"
#include "trap.h"
#include "vmi.h"

void kernel_start(const char *name)
{
    serial_init();
    kprintf("%s: vmiemu test kernel\n", name);
    const struct vmi_rom_header *rom = vmi_probe();
    if (!rom) {
        kprintf("%s: no VMI ROM: running natively\n", name);
    } else {
        const int32_t rc = vmi_init();
        kprintf("%s: VMI ROM at 0x%08x, API %u.%u, Init %d, kernel ring %u\n", name,
                vmi_rom_base(), rom->api_version_maj, rom->api_version_min, rc,
                vmi_kernel_ring());
        if (rc != 0) {
            kprintf("%s: FAIL (Init returned %d)\n", name, rc);
            test_exit(TEST_FAIL);
        }
    }
    trap_load();
}
