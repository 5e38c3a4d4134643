/* Boot protocol selection: a table of protocols, tried in order by content. */
#include "emu/boot.h"

#include <string.h>

/* Multiboot first: its probe is the ELF magic, which no bzImage starts with. */
static const boot_protocol *const boot_protocols[] = {&boot_multiboot, &boot_linux};

const boot_protocol *boot_select(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < sizeof boot_protocols / sizeof boot_protocols[0]; i++)
        if (boot_protocols[i]->probe(data, size))
            return boot_protocols[i];
    return NULL;
}

bool boot_load(physmem *pm, const boot_image *img, const boot_options *opt, boot_result *out, vm_error *err)
{
    memset(out, 0, sizeof *out);
    if (img->size == 0)
        return vm_fail(err, VM_EFORMAT, "%s: file is empty", img->path);
    const boot_protocol *p = boot_select(img->data, img->size);
    if (!p)
        return vm_fail(err, VM_EFORMAT,
                       "%s: not an ELF file (so not a Multiboot kernel) and no Linux setup header ('HdrS' at "
                       "0x202, boot flag 0xAA55 at 0x1FE): vmiemu boots Multiboot ELF kernels and Linux bzImages",
                       img->path);
    if (!p->load(pm, img, opt, out, err))
        return false;
    out->protocol = p->name;
    out->entry = out->cpu.eip;
    return true;
}

void boot_put_gdt(physmem *pm, const uint64_t *gdt, unsigned n, vcpu_entry *e)
{
    uint8_t *dst = phys_ptr(pm, BOOT_GDT);
    for (unsigned i = 0; i < n; i++)
        for (unsigned b = 0; b < 8; b++)
            dst[8 * i + b] = (uint8_t)(gdt[i] >> (8 * b));
    e->gdt_base = BOOT_GDT;
    e->gdt_limit = (uint16_t)(8 * n - 1);
}

void boot_note_write(boot_result *out, uint32_t base, uint32_t size, const char *what)
{
    if (out->nwrites < BOOT_MAX_WRITES)
        out->writes[out->nwrites++] = (boot_write){.base = base, .size = size, .what = what};
}
