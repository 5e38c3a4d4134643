/* Which guest pages were written since the last snapshot. Two ways, chosen at dirty_init:
 *
 * - The kernel's write tracking (Linux 6.7 or later): guest RAM is registered with a
 *   userfaultfd in asynchronous write-protect mode, so the first write to a protected page
 *   takes a minor fault that the kernel resolves by itself (no signal, no system call), and
 *   one PAGEMAP_SCAN ioctl per snapshot lists the written pages and protects them again.
 * - The fallback (older kernels, or userfaultfd refused, e.g. by a container's seccomp
 *   filter): the buffer is mprotect'ed read-only after each snapshot and the first write to a
 *   page (by the guest's translated code, by Unicorn, or by the host) faults once; a SIGSEGV
 *   handler marks the page and unprotects it.
 *
 * Either way nothing is added to the hot path and the set of pages found is exactly the set
 * written (a read never counts), so snapshots and the record's digests are the same.
 * VMIEMU_DIRTY_TRACKING=mprotect in the environment forces the fallback. */
#ifndef VMIEMU_DIRTY_H
#define VMIEMU_DIRTY_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/error.h"
#include "mmu/physmem.h"

#define DIRTY_PAGE_SHIFT 12

typedef enum dirty_mode {
    DIRTY_MPROTECT,  /* write-protection and a SIGSEGV handler */
    DIRTY_PAGEMAP,   /* userfaultfd asynchronous write-protection and PAGEMAP_SCAN */
} dirty_mode;

typedef struct dirty_map {
    physmem *pm;
    uint64_t *bits;  /* one bit per page; current after dirty_sync */
    uint64_t npages;
    bool armed;
    dirty_mode mode;
    int uffd;        /* DIRTY_PAGEMAP: the userfaultfd the buffer is registered with */
    int pagemap;     /* DIRTY_PAGEMAP: /proc/self/pagemap */
} dirty_map;

/* Track pm's buffer: the kernel's tracking if it offers it (and the fallback is not forced),
 * else the fallback (which installs the process's fault handler the first time). */
VM_MUST_CHECK bool dirty_init(dirty_map *d, physmem *pm, vm_error *err);
void dirty_free(dirty_map *d);

/* Bring bits up to date with the writes so far (the fallback's are always up to date); the
 * kernel's tracking protects the pages it reports again as it reports them. */
void dirty_sync(dirty_map *d);
/* Forget what was dirty and write-protect every page again. */
void dirty_rearm(dirty_map *d);
/* The same, when nothing has written to the buffer since dirty_sync: the kernel's tracking
 * then has nothing left to protect and skips its second pass over the page tables. */
void dirty_rearm_synced(dirty_map *d);
/* Set in maybe (a bitmap like bits) the pages that may hold something other than zeros; the
 * others certainly hold zeros, and reading them would cost a page fault each. The kernel's
 * tracking asks the page tables in one pass: a page with data is mapped (not to the kernel's
 * zero page) or swapped out. The fallback cannot tell, and sets every page. */
void dirty_maybe_nonzero(dirty_map *d, uint64_t *maybe);
/* Stop tracking (pages writable, bits kept; the kernel's tracking needs no stop and keeps on). */
void dirty_disarm(dirty_map *d);
/* Mark every page dirty (after the host changed all of memory, e.g. a power-on). */
void dirty_mark_all(dirty_map *d);

/* For tests: make later dirty_init calls use the fallback (true) or choose as usual (false). */
void dirty_force_mprotect(bool force);

#endif
