#include "mmu/dirty.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Every tracked buffer, for the fault handler (a few at most: one per machine). */
#define DIRTY_MAX_MAPS 16
static dirty_map *volatile maps[DIRTY_MAX_MAPS];
static struct sigaction previous;
static bool installed;

static void mark_page(dirty_map *d, uint64_t pfn)
{
    d->bits[pfn >> 6] |= 1ull << (pfn & 63);
}

/* A write to a protected page of a tracked buffer: mark it and let the write happen. Any other
 * fault goes to whoever handled SIGSEGV before us (the default: a crash, as it should be). */
static void on_fault(int sig, siginfo_t *info, void *uctx)
{
    uint8_t *addr = info->si_addr;
    for (int i = 0; i < DIRTY_MAX_MAPS; i++) {
        dirty_map *d = maps[i];
        if (d && d->armed && addr >= d->pm->ram && addr < d->pm->ram + d->pm->size) {
            uint64_t pfn = (uint64_t)(addr - d->pm->ram) >> DIRTY_PAGE_SHIFT;
            mark_page(d, pfn);
            if (mprotect(d->pm->ram + (pfn << DIRTY_PAGE_SHIFT), 1u << DIRTY_PAGE_SHIFT, PROT_READ | PROT_WRITE) == 0)
                return;
        }
    }
    if (previous.sa_flags & SA_SIGINFO && previous.sa_sigaction) {
        previous.sa_sigaction(sig, info, uctx);
        return;
    }
    if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN && previous.sa_handler) {
        previous.sa_handler(sig);
        return;
    }
    signal(sig, SIG_DFL); /* re-raised by the faulting instruction on return */
}

static bool install(vm_error *err)
{
    if (installed)
        return true;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &previous) != 0)
        return vm_fail(err, VM_EIO, "cannot install the write-tracking fault handler");
    installed = true;
    return true;
}

bool dirty_init(dirty_map *d, physmem *pm, vm_error *err)
{
    memset(d, 0, sizeof *d);
    d->pm = pm;
    d->npages = pm->size >> DIRTY_PAGE_SHIFT;
    d->bits = calloc((d->npages + 63) / 64, sizeof *d->bits);
    if (!d->bits)
        return vm_fail(err, VM_ENOMEM, "out of memory for the dirty-page map");
    if (!install(err))
        return false;
    for (int i = 0; i < DIRTY_MAX_MAPS; i++)
        if (!maps[i]) {
            maps[i] = d;
            return true;
        }
    return vm_fail(err, VM_EINVAL, "too many machines tracking memory at once");
}

void dirty_free(dirty_map *d)
{
    if (!d->bits)
        return;
    dirty_disarm(d);
    for (int i = 0; i < DIRTY_MAX_MAPS; i++)
        if (maps[i] == d)
            maps[i] = NULL;
    free(d->bits);
    d->bits = NULL;
}

void dirty_rearm(dirty_map *d)
{
    memset(d->bits, 0, (d->npages + 63) / 64 * sizeof *d->bits);
    d->armed = mprotect(d->pm->ram, d->pm->size, PROT_READ) == 0;
    if (!d->armed)
        dirty_mark_all(d); /* cannot track: treat everything as written, still correct */
}

void dirty_disarm(dirty_map *d)
{
    if (d->armed)
        mprotect(d->pm->ram, d->pm->size, PROT_READ | PROT_WRITE);
    d->armed = false;
}

void dirty_mark_all(dirty_map *d)
{
    memset(d->bits, 0xFF, (d->npages + 63) / 64 * sizeof *d->bits);
}
