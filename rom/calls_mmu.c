/* Page tables: which pages are page tables, what the guest stores in them, where the kernel
 * maps physical memory. The stores themselves are real instructions in the ROM slots. */
#include "rom/rom_handlers.h"

#define PAGE_SHIFT 12
#define FLAG_LEVELS 0x0Fu /* PT, PD, PDP, PML4 */

static bool pfn_ok(const rom_ctx *x, uint32_t pfn) { return pfn < x->ram_pages; }

void rom_do_update_pxe(rom_ctx *x, rom_frame *f)
{
    uint32_t entry = 0;
    if (!x->svc->read(x->o, f->args[0], &entry, sizeof entry))
        f->failed = true;
    f->result = entry;
}

void rom_do_allocate_page(rom_ctx *x, rom_frame *f)
{
    uint32_t pfn = f->args[0], flags = f->args[1];
    if (!pfn_ok(x, pfn) || !(flags & FLAG_LEVELS) || (flags & 0x20 && !pfn_ok(x, f->args[2]))) {
        f->failed = true;
        return;
    }
    if (!x->pt_pages[pfn])
        x->st->pt_count++;
    x->pt_pages[pfn] = (uint8_t)(flags & 0xFF);
}

void rom_do_release_page(rom_ctx *x, rom_frame *f)
{
    uint32_t pfn = f->args[0];
    if (!pfn_ok(x, pfn)) {
        f->failed = true; /* no such frame */
        return;
    }
    if (!x->pt_pages[pfn])
        return; /* legal: early tables (head_32.S's) are never announced, yet HIGHMEM Linux releases one */
    if (x->pt_pages[pfn] & (FLAG_LEVELS & ~0x01u)) /* a root CR3 may hold: its block counts go */
        x->svc->forget_space(x->o, pfn << PAGE_SHIFT);
    x->pt_pages[pfn] = 0;
    x->st->pt_count--;
}

void rom_do_set_linear_mapping(rom_ctx *x, rom_frame *f)
{
    uint32_t slot = f->args[0], linear = f->args[1], pages = f->args[2], pfn = f->args[3];
    if (slot >= ROM_LINEAR_SLOTS || (linear & 0xFFF) || (uint64_t)linear + ((uint64_t)pages << PAGE_SHIFT) > (1ull << 32)) {
        f->failed = true;
        return;
    }
    x->st->linear_maps[slot] = (rom_linear_mapping){linear, pages, pfn, true};
}

void rom_do_identity(rom_ctx *x, rom_frame *f)
{
    (void)x;
    f->result = f->args[0];
}
