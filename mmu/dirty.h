/* Which guest pages were written since the last snapshot: the host buffer is write-protected
 * after each snapshot, and the first write to a page (by the guest's translated code, by
 * Unicorn, or by the host) faults once, marks the page and unprotects it. Cost is one fault per
 * dirtied page per snapshot interval and nothing on the hot path. */
#ifndef VMIEMU_DIRTY_H
#define VMIEMU_DIRTY_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/error.h"
#include "mmu/physmem.h"

#define DIRTY_PAGE_SHIFT 12

typedef struct dirty_map {
    physmem *pm;
    uint64_t *bits;  /* one bit per page */
    uint64_t npages;
    bool armed;
} dirty_map;

/* Track pm's buffer (installs the process's fault handler the first time). */
VM_MUST_CHECK bool dirty_init(dirty_map *d, physmem *pm, vm_error *err);
void dirty_free(dirty_map *d);

/* Forget what was dirty and write-protect every page again. */
void dirty_rearm(dirty_map *d);
/* Stop tracking (pages writable, bits kept). */
void dirty_disarm(dirty_map *d);
/* Mark every page dirty (after the host changed all of memory, e.g. a power-on). */
void dirty_mark_all(dirty_map *d);

#endif
