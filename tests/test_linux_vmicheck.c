/* The VMI checker on the shared VMI Linux (../shared/guests/vmilinux-2.6.32, or $VMIEMU_GUESTS):
 * the boot with --check-vmi has the same event log, serial output and instruction count as
 * without, and every finding is one of those docs/VMI_LINUX.md section 7 explains, located
 * through the guest's own System.map: SetPxE into head_32.S's brk tables, into bm_pte or into
 * swapper_pg_dir before its AllocatePage; PTE clears of a dying mm in unmap_vmas; native
 * rdmsr/wrmsr; nothing else. Without the guest the suite reports SKIPPED (exit 77). */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/vmicheck.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define PAGE_OFFSET 0xC0000000u

static char bzimage[TU_GUEST_PATH], initramfs[TU_GUEST_PATH], sysmap[TU_GUEST_PATH];
static tu_machine *on, *off;

/* The System.map: symbols sorted by address. */
static struct sym {
    uint32_t addr;
    char name[64];
} *syms;
static size_t nsyms;

static int by_addr(const void *a, const void *b)
{
    uint32_t x = ((const struct sym *)a)->addr, y = ((const struct sym *)b)->addr;
    return x < y ? -1 : x > y;
}

static void load_map(void)
{
    FILE *f = fopen(sysmap, "r");
    ck_assert_ptr_nonnull(f);
    size_t cap = 0;
    char line[256], type;
    struct sym s;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%" SCNx32 " %c %63s", &s.addr, &type, s.name) == 3) {
            if (nsyms == cap) {
                cap = cap ? 2 * cap : 4096;
                syms = realloc(syms, cap * sizeof *syms);
                ck_assert_ptr_nonnull(syms);
            }
            syms[nsyms++] = s;
        }
    fclose(f);
    qsort(syms, nsyms, sizeof *syms, by_addr);
}

static uint32_t sym_addr(const char *name)
{
    for (size_t i = 0; i < nsyms; i++)
        if (!strcmp(syms[i].name, name))
            return syms[i].addr;
    ck_abort_msg("System.map has no %s", name);
    return 0;
}

/* The symbol an address falls in (the last one at or below it). */
static const char *sym_at(uint32_t addr)
{
    const char *name = "?";
    for (size_t i = 0; i < nsyms && syms[i].addr <= addr; i++)
        name = syms[i].name;
    return name;
}

static tu_machine *boot(bool check)
{
    machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.cmdline = "console=ttyS0";
    cfg.initrd = initramfs;
    cfg.snap_every = 0;
    cfg.max_insns = 600000000;
    cfg.check_vmi = check;
    tu_machine *t = calloc(1, sizeof *t);
    vm_error err = {0};
    if (!t || !tu_boot_and_run(t, &cfg, bzimage, &err)) {
        fprintf(stderr, "cannot boot %s: %s\n", bzimage, err.msg);
        exit(EXIT_FAILURE);
    }
    return t;
}

static void boot_both(void)
{
    on = boot(true);
    off = boot(false);
}

static void free_both(void)
{
    machine_free(&on->m);
    machine_free(&off->m);
    free(on);
    free(off);
}

START_TEST(test_linux_boots_with_the_checker_exactly_as_without)
{
    ck_assert_ptr_nonnull(strstr(on->serial, "VMI-LINUX-OK"));
    ck_assert_uint_eq(machine_insns(&on->m), machine_insns(&off->m));
    ck_assert_str_eq(on->serial, off->serial);
    size_t n = evlog_count(&on->m.log);
    ck_assert_uint_eq(n, evlog_count(&off->m.log));
    for (size_t i = 0; i < n; i++) {
        vm_event a, b;
        ck_assert(evlog_get(&on->m.log, i, &a) && evlog_get(&off->m.log, i, &b));
        ck_assert_msg(!memcmp(&a, &b, sizeof a), "event %zu of %zu differs", i, n);
    }
}
END_TEST

/* The physical page a finding's "into page 0x..." names. */
static uint32_t page_of(const vmicheck_finding *f)
{
    const char *p = strstr(f->what, "into page 0x");
    ck_assert_ptr_nonnull(p);
    return (uint32_t)strtoul(p + strlen("into page "), NULL, 16);
}

START_TEST(test_every_finding_on_linux_is_one_the_docs_explain)
{
    load_map();
    const vmicheck *c = on->m.check;
    ck_assert_uint_eq(c->counts[VMICHECK_DT_WRITE], 0);
    ck_assert_uint_eq(c->counts[VMICHECK_STALE_TLB], 0);
    ck_assert_uint_eq(c->counts[VMICHECK_PAGE_BALANCE], 0);
    ck_assert_uint_eq(c->nkept, vmicheck_total(c)); /* all of them kept, so all looked at below */
    uint32_t brk_lo = sym_addr("__brk_base") - PAGE_OFFSET, brk_hi = sym_addr("__brk_limit") - PAGE_OFFSET;
    uint32_t bm_pte = sym_addr("bm_pte") - PAGE_OFFSET, swapper = sym_addr("swapper_pg_dir") - PAGE_OFFSET;
    size_t brk = 0, early = 0, pgd = 0, msr = 0, zap = 0;
    for (size_t i = 0; i < c->nkept; i++) {
        const vmicheck_finding *f = &c->kept[i];
        switch (f->kind) {
        case VMICHECK_UNREGISTERED_PXE: {
            uint32_t page = page_of(f);
            if (page >= brk_lo && page < brk_hi)
                brk++;
            else if (page == bm_pte)
                early++;
            else if (page == swapper)
                pgd++;
            else
                ck_abort_msg("finding %zu: SetPxE into page 0x%08x (%s)", i, page, sym_at(page + PAGE_OFFSET));
            break;
        }
        case VMICHECK_PT_WRITE:
            ck_assert_msg(!strcmp(sym_at(f->eip), "unmap_vmas") && strstr(f->what, "now 0x00000000"),
                          "finding %zu at %s: %s", i, sym_at(f->eip), f->what);
            zap++;
            break;
        case VMICHECK_RAW_INSN:
            ck_assert_msg(strstr(f->what, "raw rdmsr") || strstr(f->what, "raw wrmsr"), "finding %zu: %s", i, f->what);
            msr++;
            break;
        default:
            ck_abort_msg("finding %zu: %s", i, f->what);
        }
    }
    /* Each group the docs name is there: the checker sees what Linux does. */
    ck_assert(brk > 0 && early > 0 && pgd > 0 && msr > 0 && zap > 0);
    free(syms);
}
END_TEST

int main(void)
{
    if (!tu_linux_guest_files(bzimage, "bzImage", initramfs, "initramfs.cpio.gz", sysmap, "System.map", NULL))
        return TU_SKIP;
    Suite *s = suite_create("linux_vmicheck");
    TCase *tc = tcase_create("boot");
    tcase_set_timeout(tc, 900);
    tcase_add_unchecked_fixture(tc, boot_both, free_both);
    tcase_add_test(tc, test_linux_boots_with_the_checker_exactly_as_without);
    tcase_add_test(tc, test_every_finding_on_linux_is_one_the_docs_explain);
    suite_add_tcase(s, tc);
    return suite_run(s);
}
