/* The Multiboot ELF loader on any bytes: the input is the kernel file. Each load either fails
 * with a message or places the kernel; either way nothing outside guest RAM is touched. */
#include <stdlib.h>

#include "emu/boot.h"
#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static physmem pm;
    if (!pm.ram) {
        vm_error err = {0};
        if (!phys_init(&pm, 16, &err))
            abort();
    }
    boot_image img = {.path = "fuzz.elf", .data = data, .size = size};
    boot_options opt = {.cmdline = "console=ttyS0 fuzz"};
    boot_result res;
    vm_error err = {0};
    (void)boot_multiboot.probe(data, size);
    (void)boot_multiboot.load(&pm, &img, &opt, &res, &err);
    return 0;
}
