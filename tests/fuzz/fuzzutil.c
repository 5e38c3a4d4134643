#define _GNU_SOURCE /* memfd_create */
#include "fuzzutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

void fz_boot_hello(machine *m, uint32_t ram_mib, uint64_t snap_every, uint64_t max_insns)
{
    machine_config c;
    machine_config_defaults(&c);
    c.ram_mib = ram_mib;
    c.snap_every = snap_every;
    c.max_insns = max_insns;
    c.snap_mem_mib = 16;
    c.log_mem_mib = 4;
    vm_error err = {0};
    if (!machine_init(m, &c, VMIEMU_KERNEL_DIR "/hello.elf", &err)) {
        fprintf(stderr, "fuzz: cannot boot hello.elf: %s\n", err.msg);
        abort();
    }
    machine_set_serial_out(m, NULL, NULL);
}

/* A memfd, not a file on disk: on ext4 each rewrite of a real file (truncate, write, close)
 * forces a writeback, which made the record target spend most of its time in the kernel. */
const char *fz_scratch_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("vmiemu-fuzz", 0);
        if (fd < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
        perror(path);
        abort();
    }
    return path;
}

uint8_t fz_u8(fz_cursor *c) { return c->pos < c->size ? c->data[c->pos++] : 0; }

uint16_t fz_u16(fz_cursor *c)
{
    uint16_t lo = fz_u8(c);
    return (uint16_t)(lo | fz_u8(c) << 8);
}

uint32_t fz_u32(fz_cursor *c)
{
    uint32_t lo = fz_u16(c);
    return lo | (uint32_t)fz_u16(c) << 16;
}

const uint8_t *fz_bytes(fz_cursor *c, size_t n, size_t *got)
{
    size_t left = c->size - c->pos;
    *got = n < left ? n : left;
    const uint8_t *p = c->data + c->pos;
    c->pos += *got;
    return p;
}
