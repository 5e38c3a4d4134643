/* Page tables: which pages are page tables, what the guest stores in them, where the kernel
 * maps physical memory. The stores themselves are real instructions in the ROM slots. */
#include "emu/machine.h"
#include "rom/rom_handlers.h"

#define PAGE_SHIFT 12
#define FLAG_LEVELS 0x0Fu /* PT, PD, PDP, PML4 */

static bool pfn_ok(const machine *m, uint32_t pfn) { return (uint64_t)pfn < (m->mem.size >> PAGE_SHIFT); }

/* SetPxE: the native store follows; here only check that the pointer is mapped writable, so a
 * hostile pointer is logged as a failed call before it faults in the guest. */
static void check_entry_pointer(machine *m, rom_frame *f, uint32_t ptr)
{
    uint64_t phys;
    if (!vcpu_translate(m->cpu, ptr, true, &phys))
        f->failed = true;
}

void rom_do_set_pxe(machine *m, rom_frame *f) { check_entry_pointer(m, f, f->args[1]); }
void rom_do_set_pxe_long(machine *m, rom_frame *f) { check_entry_pointer(m, f, f->args[2]); }

void rom_do_update_pxe(machine *m, rom_frame *f)
{
    uint32_t entry = 0;
    if (!vcpu_read_linear(m->cpu, f->args[0], &entry, sizeof entry))
        f->failed = true;
    f->result = entry;
}

void rom_do_allocate_page(machine *m, rom_frame *f)
{
    uint32_t pfn = f->args[0], flags = f->args[1];
    if (!pfn_ok(m, pfn) || !(flags & FLAG_LEVELS) || (flags & 0x20 && !pfn_ok(m, f->args[2]))) {
        f->failed = true;
        return;
    }
    if (!m->pt_pages[pfn])
        m->pt_count++;
    m->pt_pages[pfn] = (uint8_t)(flags & 0xFF);
}

void rom_do_release_page(machine *m, rom_frame *f)
{
    uint32_t pfn = f->args[0];
    if (!pfn_ok(m, pfn) || !m->pt_pages[pfn]) {
        f->failed = true; /* releasing a page that was never allocated as a page table */
        return;
    }
    if (m->pt_pages[pfn] & (FLAG_LEVELS & ~0x01u)) /* a root CR3 may hold: its block counts go */
        vcpu_forget_space(m->cpu, pfn << PAGE_SHIFT);
    m->pt_pages[pfn] = 0;
    m->pt_count--;
}

void rom_do_set_linear_mapping(machine *m, rom_frame *f)
{
    uint32_t slot = f->args[0], linear = f->args[1], pages = f->args[2], pfn = f->args[3];
    if (slot >= MACHINE_LINEAR_SLOTS || (linear & 0xFFF) || (uint64_t)linear + ((uint64_t)pages << PAGE_SHIFT) > (1ull << 32)) {
        f->failed = true;
        return;
    }
    m->linear_maps[slot] = (linear_mapping){linear, pages, pfn, true};
}

void rom_do_identity(machine *m, rom_frame *f)
{
    (void)m;
    f->result = f->args[0];
}
