/* Two-level (non-PAE) paging built only through VMI: page tables come from a static pool,
 * are announced with AllocatePage and filled with SetPxE -- so with a ROM the ROM stores
 * every entry, and natively the wrappers store them. One address space, the library's.
 *
 * SetPxE flags: VMI_PAGE_PT or VMI_PAGE_PD, plus, once paging runs on this directory,
 * VMI_PAGE_CURRENT_AS | (linear address the entry maps), plus pg_extra_vmi_flags. */
#ifndef TK_PAGING_H
#define TK_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#define PAGE_SIZE 4096u
#define PTE_P 0x001u
#define PTE_W 0x002u
#define PTE_U 0x004u
#define PTE_PWT 0x008u
#define PTE_PCD 0x010u
#define PTE_A 0x020u
#define PTE_D 0x040u
#define PTE_G 0x100u
#define PTE_ADDR 0xFFFFF000u
#define PDE_TABLE (PTE_P | PTE_W | PTE_U | PTE_A) /* access is decided in the PTE */

#define PF_ERR_P 0x1u /* page-fault error code: protection (1) / not present (0) */
#define PF_ERR_W 0x2u /* write */
#define PF_ERR_U 0x4u /* from ring 3 */

#define CR0_PE 0x00000001u
#define CR0_MP 0x00000002u
#define CR0_EM 0x00000004u
#define CR0_TS 0x00000008u
#define CR0_WP 0x00010000u
#define CR0_AM 0x00040000u
#define CR0_PG 0x80000000u
#define CR4_PGE 0x00000080u

#define PG_POOL_PAGES 32

/* A zeroed page from the pool (physical = boot linear address), or NULL when exhausted. */
void *pg_alloc_page(void);

/* Create the page directory: AllocatePage(pfn, PD | ZEROED, 0, 0, 0). */
void pg_init(void);

/* Physical address of the page directory (for CR3). */
uint32_t pg_directory(void);

/* Map one page / a range: linear -> phys with PTE flags `pte_flags` (PTE_P is added). A
 * missing page table is taken from the pool, announced with AllocatePage(pfn, PT | ZEROED)
 * and installed with SetPxE on the PDE. False if the pool is exhausted. */
bool pg_map(uint32_t linear, uint32_t phys, uint32_t pte_flags);
bool pg_map_range(uint32_t linear, uint32_t phys, uint32_t bytes, uint32_t pte_flags);

/* SetPxE(0) on the page's PTE (nothing if it has no page table). */
void pg_unmap(uint32_t linear);

/* Where the PTE for `linear` lives (as the page tables are currently accessed), or NULL. */
uint32_t *pg_pte(uint32_t linear);
uint32_t *pg_pde(uint32_t linear);

/* The SetPxE/UpdatePxE flags the library passes for an entry of `level` mapping `linear`. */
uint32_t pg_vmi_flags(uint32_t level, uint32_t linear);

/* OR-ed into every SetPxE flags word (e.g. VMI_PAGE_DEFER inside a lazy-MMU batch). */
extern uint32_t pg_extra_vmi_flags;

/* Drop the page table that maps `linear`: SetPxE(0) on its PDE, FlushTLB, then
 * ReleasePage(pfn, PT). Its page is not reused. */
void pg_release_table(uint32_t linear);

/* SetCR3(directory), then SetCR0(CR0 | PG, | WP if asked). */
void pg_enable(bool write_protect);

/* True between pg_enable and the end. */
bool pg_enabled(void);

/* From now on reach the page tables at physical + offset (a higher-half alias). */
void pg_set_table_offset(uint32_t offset);

#endif
