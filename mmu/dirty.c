#include "mmu/dirty.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- the kernel's write tracking (Linux 6.7): userfaultfd WP_ASYNC and PAGEMAP_SCAN ----
 * Debian 12's headers predate both, so the constants and structures are spelled out here
 * (the kernel's ABI: Documentation/admin-guide/mm/pagemap.rst, userfaultfd.rst), under names
 * of our own so that newer headers do not clash. */
#define UFFD_FEATURE_WP_UNPOPULATED_ (1u << 13) /* some kernels scan only with it */
#define UFFD_FEATURE_WP_ASYNC_ (1u << 15)       /* write faults resolved by the kernel itself */
#define UFFD_USER_MODE_ONLY_ 1                  /* allowed without privilege */
#define PAGE_IS_WRITTEN_ (1u << 1)
#define PAGE_IS_PRESENT_ (1u << 3)
#define PAGE_IS_SWAPPED_ (1u << 4)
#define PAGE_IS_PFNZERO_ (1u << 5)
#define PM_SCAN_WP_MATCHING_ (1u << 0)
#define PM_SCAN_CHECK_WPASYNC_ (1u << 1)

typedef struct scan_region {
    uint64_t start, end, categories;
} scan_region;

typedef struct scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
} scan_arg;

#define PAGEMAP_SCAN_ _IOWR('f', 16, scan_arg)
#define SCAN_REGIONS 256

static bool force_mprotect;

void dirty_force_mprotect(bool force) { force_mprotect = force; }

static void mark_page(dirty_map *d, uint64_t pfn)
{
    d->bits[pfn >> 6] |= 1ull << (pfn & 63);
}

/* One PAGEMAP_SCAN pass over the buffer for the pages in the categories the pattern asks for,
 * each marked in out (if any); the kernel stops early when the region list is full (walk_end
 * says where) and the next call goes on from there. False if the kernel refused. */
static bool scan_for(dirty_map *d, const scan_arg *pattern, uint64_t *out)
{
    scan_region vec[SCAN_REGIONS];
    uint64_t base = (uintptr_t)d->pm->ram, start = base, end = base + d->pm->size;
    while (start < end) {
        scan_arg a = *pattern;
        a.size = sizeof a;
        a.start = start;
        a.end = end;
        a.vec = out ? (uintptr_t)vec : 0;
        a.vec_len = out ? SCAN_REGIONS : 0;
        int n = ioctl(d->pagemap, PAGEMAP_SCAN_, &a);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || a.walk_end <= start || a.walk_end > end)
            return false;
        for (int i = 0; i < n; i++)
            for (uint64_t p = vec[i].start; p < vec[i].end && p < end; p += 1u << DIRTY_PAGE_SHIFT) {
                uint64_t pfn = (p - base) >> DIRTY_PAGE_SHIFT;
                out[pfn >> 6] |= 1ull << (pfn & 63);
            }
        start = a.walk_end;
    }
    return true;
}

/* One pass protecting every written page again and, with collect, marking it in bits.
 *
 * Only pages with a page of their own are looked at (mapped, not to the kernel's shared zero
 * page, or swapped out): a written page always has one, while an empty entry (never touched,
 * or cleared by the host's MADV_DONTNEED) or one mapping the zero page (only read) holds zeros
 * and has not been written. Such entries stay unprotected: a write gives them a page of their
 * own, unprotected, which the next pass reports. So no entry is protected in advance (markers
 * in empty entries would cost a walk over all of RAM's page tables at every pass, 2.7 ms for 3
 * GiB, and a first write two faults), and kernel versions' differing views of whether an
 * empty entry counts as written do not matter. */
static bool scan(dirty_map *d, bool collect)
{
    scan_arg a = {.flags = PM_SCAN_WP_MATCHING_ | PM_SCAN_CHECK_WPASYNC_,
                  .category_inverted = PAGE_IS_PFNZERO_,
                  .category_mask = PAGE_IS_WRITTEN_ | PAGE_IS_PFNZERO_,
                  .category_anyof_mask = PAGE_IS_PRESENT_ | PAGE_IS_SWAPPED_,
                  .return_mask = PAGE_IS_WRITTEN_};
    return scan_for(d, &a, collect ? d->bits : NULL);
}

static void pagemap_close(dirty_map *d)
{
    if (d->uffd >= 0)
        close(d->uffd); /* unregisters the buffer and lifts the protection */
    if (d->pagemap >= 0)
        close(d->pagemap);
    d->uffd = d->pagemap = -1;
}

/* Set up the kernel's tracking; false (and nothing left behind) where it is not offered. */
static bool pagemap_open(dirty_map *d)
{
    d->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY_);
    if (d->uffd < 0) /* kernels before 5.11 know no user-mode-only flag; root may go without */
        d->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    d->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (d->uffd < 0 || d->pagemap < 0) {
        pagemap_close(d);
        return false;
    }
    struct uffdio_api api = {.api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC_ | UFFD_FEATURE_WP_UNPOPULATED_};
    struct uffdio_register reg = {.range = {.start = (uintptr_t)d->pm->ram, .len = d->pm->size},
                                  .mode = UFFDIO_REGISTER_MODE_WP};
    /* Small pages only: a written transparent huge page could be reported whole. The scan
     * checks that PAGEMAP_SCAN exists (Linux 6.7) and accepts the buffer; it changes nothing. */
    scan_arg probe = {.flags = PM_SCAN_CHECK_WPASYNC_, .category_mask = PAGE_IS_WRITTEN_, .return_mask = PAGE_IS_WRITTEN_};
    if (ioctl(d->uffd, UFFDIO_API, &api) != 0 || madvise(d->pm->ram, d->pm->size, MADV_NOHUGEPAGE) != 0 ||
        ioctl(d->uffd, UFFDIO_REGISTER, &reg) != 0 || !scan_for(d, &probe, NULL)) {
        pagemap_close(d);
        return false;
    }
    return true;
}

/* ---- the fallback: mprotect and a SIGSEGV handler ---- */

/* Every tracked buffer, for the fault handler (a few at most: one per machine). */
#define DIRTY_MAX_MAPS 16
static dirty_map *volatile maps[DIRTY_MAX_MAPS];
static struct sigaction previous;
static bool installed;

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

/* ---- either way ---- */

static bool want_mprotect(void)
{
    const char *env = getenv("VMIEMU_DIRTY_TRACKING");
    return force_mprotect || (env && strcmp(env, "mprotect") == 0);
}

bool dirty_init(dirty_map *d, physmem *pm, vm_error *err)
{
    memset(d, 0, sizeof *d);
    d->pm = pm;
    d->uffd = d->pagemap = -1;
    d->npages = pm->size >> DIRTY_PAGE_SHIFT;
    d->bits = calloc((d->npages + 63) / 64, sizeof *d->bits);
    if (!d->bits)
        return vm_fail(err, VM_ENOMEM, "out of memory for the dirty-page map");
    if (!want_mprotect() && pagemap_open(d)) {
        d->mode = DIRTY_PAGEMAP;
        d->armed = true;
        return true;
    }
    d->mode = DIRTY_MPROTECT;
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
    pagemap_close(d);
    for (int i = 0; i < DIRTY_MAX_MAPS; i++)
        if (maps[i] == d)
            maps[i] = NULL;
    free(d->bits);
    d->bits = NULL;
}

void dirty_sync(dirty_map *d)
{
    if (d->mode == DIRTY_PAGEMAP && d->armed && !scan(d, true))
        dirty_mark_all(d); /* the kernel refused: treat everything as written, still correct */
}

void dirty_rearm(dirty_map *d)
{
    memset(d->bits, 0, (d->npages + 63) / 64 * sizeof *d->bits);
    if (d->mode == DIRTY_PAGEMAP) {
        d->armed = scan(d, false);
    } else {
        d->armed = mprotect(d->pm->ram, d->pm->size, PROT_READ) == 0;
    }
    if (!d->armed)
        dirty_mark_all(d); /* cannot track: treat everything as written, still correct */
}

void dirty_rearm_synced(dirty_map *d)
{
    if (d->mode == DIRTY_PAGEMAP && d->armed)
        memset(d->bits, 0, (d->npages + 63) / 64 * sizeof *d->bits);
    else
        dirty_rearm(d);
}

void dirty_maybe_nonzero(dirty_map *d, uint64_t *maybe)
{
    size_t bytes = (d->npages + 63) / 64 * sizeof *maybe;
    scan_arg a = {.category_inverted = PAGE_IS_PFNZERO_,
                  .category_mask = PAGE_IS_PFNZERO_,
                  .category_anyof_mask = PAGE_IS_PRESENT_ | PAGE_IS_SWAPPED_,
                  .return_mask = PAGE_IS_PRESENT_ | PAGE_IS_SWAPPED_};
    memset(maybe, 0, bytes);
    if (d->mode != DIRTY_PAGEMAP || !scan_for(d, &a, maybe))
        memset(maybe, 0xFF, bytes);
}

void dirty_disarm(dirty_map *d)
{
    if (d->mode == DIRTY_MPROTECT && d->armed) {
        mprotect(d->pm->ram, d->pm->size, PROT_READ | PROT_WRITE);
        d->armed = false;
    }
}

void dirty_mark_all(dirty_map *d)
{
    memset(d->bits, 0xFF, (d->npages + 63) / 64 * sizeof *d->bits);
}
