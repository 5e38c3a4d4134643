/* The Linux boot protocol (bzImage + initrd + command line) on any bytes. The input is
 *   u16 L, L bytes of command line (NUL-terminated here), u32 N, N bytes of initrd (N capped at
 *   what is left; an even N means no --initrd at all), then the kernel file: the rest.
 * Each load either fails with a message or writes the kernel, boot_params and initrd. */
#include <stdlib.h>
#include <string.h>

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
    fz_cursor c = {data, size, 0};
    size_t cmd_len, initrd_len;
    const uint8_t *cmd = fz_bytes(&c, fz_u16(&c), &cmd_len);
    char *cmdline = malloc(cmd_len + 1);
    if (!cmdline)
        abort();
    memcpy(cmdline, cmd, cmd_len);
    cmdline[cmd_len] = 0;
    uint32_t want = fz_u32(&c);
    const uint8_t *initrd = fz_bytes(&c, want, &initrd_len);
    size_t kernel_len;
    const uint8_t *kernel = fz_bytes(&c, size, &kernel_len);

    boot_image img = {.path = "fuzz.bzImage", .data = kernel, .size = kernel_len};
    boot_options opt = {.cmdline = cmd_len ? cmdline : NULL,
                        .initrd_path = want & 1 ? "fuzz.initrd" : NULL,
                        .initrd = want & 1 ? initrd : NULL,
                        .initrd_size = want & 1 ? initrd_len : 0};
    boot_result res;
    vm_error err = {0};
    (void)boot_linux.probe(kernel, kernel_len);
    (void)boot_linux.load(&pm, &img, &opt, &res, &err);
    free(cmdline);
    return 0;
}
