#include "mmu/physmem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

bool phys_init(physmem *pm, uint32_t mib, vm_error *err)
{
    if (mib < PHYS_MIN_MIB || mib > PHYS_MAX_MIB)
        return vm_fail(err, VM_EINVAL, "memory size %u MiB is out of range (%u..%u MiB)", mib,
                       PHYS_MIN_MIB, PHYS_MAX_MIB);
    pm->size = (uint64_t)mib << 20;
    /* mmap gives zeroed, page-aligned memory that is only backed when touched. */
    void *p = mmap(NULL, pm->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) {
        pm->ram = NULL;
        return vm_fail(err, VM_ENOMEM, "cannot allocate %u MiB of guest RAM", mib);
    }
    pm->ram = p;
    return true;
}

void phys_free(physmem *pm)
{
    if (pm->ram)
        munmap(pm->ram, pm->size);
    pm->ram = NULL;
    pm->size = 0;
}

void phys_clear(physmem *pm)
{
    /* MADV_DONTNEED on private anonymous memory gives back zero pages without touching them. */
    if (madvise(pm->ram, pm->size, MADV_DONTNEED) != 0)
        memset(pm->ram, 0, pm->size);
}

phys_kind phys_kind_at(const physmem *pm, uint64_t addr)
{
    if (addr >= pm->size)
        return PHYS_NONE;
    if (addr < PHYS_LOW_RAM_END)
        return PHYS_RAM;
    if (addr < PHYS_ROM_BASE)
        return PHYS_VGA;
    if (addr < PHYS_ROM_BASE + PHYS_ROM_SIZE)
        return PHYS_ROM;
    if (addr < PHYS_HOLE_END)
        return PHYS_HOLE;
    return PHYS_RAM;
}

bool phys_range_is_ram(const physmem *pm, uint64_t addr, uint64_t len)
{
    if (!phys_range_ok(pm, addr, len))
        return false;
    if (len == 0)
        return true;
    uint64_t last = addr + len - 1;
    /* RAM is [0, 640K) and [1M, size): a range is RAM if it sits wholly in one of them. */
    return last < PHYS_LOW_RAM_END || addr >= PHYS_HOLE_END;
}

bool phys_read(const physmem *pm, uint64_t addr, void *dst, size_t len)
{
    if (!phys_range_ok(pm, addr, len))
        return false;
    memcpy(dst, pm->ram + addr, len);
    return true;
}

bool phys_write(physmem *pm, uint64_t addr, const void *src, size_t len)
{
    if (!phys_range_ok(pm, addr, len))
        return false;
    memcpy(pm->ram + addr, src, len);
    return true;
}

uint32_t phys_read32(const physmem *pm, uint64_t addr)
{
    uint32_t v;
    return phys_read(pm, addr, &v, sizeof v) ? v : 0;
}
