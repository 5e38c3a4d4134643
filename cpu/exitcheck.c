/* Unicorn's stop check after every guest load and store.
 *
 * Unicorn 2.1.4 follows each translated guest memory access with a call to
 * helper_check_exit_request, an out-of-line helper that makes TCG write all guest registers
 * back before it and load them again after it: 16 % of the Debian 12 boot's host time in the
 * helper alone, more in the spills (docs/BENCHMARKS.md). The check lets a stop asked for by a
 * callback during an access take effect right after it. vmiemu asks for no such stop while
 * none of its memory or code hooks is installed: devices re-plan at the next block start
 * (vcpu_request_replan), a port write that ends the run contains the rest of its block
 * (cpu.c), and every other stop comes from the block hook, whose own check Unicorn keeps. So
 * vmiemu turns the per-access check off through Unicorn's `no_exit_request` flag (there for
 * ARM IT blocks), read when a block is translated, whenever a translation cannot need it
 * (vcpu_exit_checks_wanted); translations made with the checks on stay valid either way.
 *
 * The flag is a field of Unicorn's private `struct uc_struct`. Its offset is read from the
 * machine code of check_exit_request_x86_64 (`mov disp32(%rdi),%rsi; cmpb $0,disp32(%rsi)`:
 * tcg_ctx->uc->no_exit_request); where that code looks different (another Unicorn build,
 * another host), the checks simply stay on. tests/test_unicorn_probes.c checks that the byte
 * found is the flag. */
#include <string.h>
#include <unicorn/unicorn.h>

#include "cpu/cpu_internal.h"
#include "cpu/exitcheck.h"

#if defined(__x86_64__)
void check_exit_request_x86_64(void *tcg_ctx); /* libunicorn.a: tcg/tcg-op.c */

long vcpu_exit_check_offset(void)
{
    static const uint8_t mov_uc[3] = {0x48, 0x8b, 0xb7};   /* mov disp32(%rdi),%rsi */
    static const uint8_t cmpb_flag[2] = {0x80, 0xbe};       /* cmpb $imm8,disp32(%rsi) */
    const uint8_t *code = (const uint8_t *)(uintptr_t)check_exit_request_x86_64;
    uint8_t b[14];
    memcpy(b, code, sizeof b);
    if (memcmp(b, mov_uc, sizeof mov_uc) || memcmp(b + 7, cmpb_flag, sizeof cmpb_flag) || b[13] != 0)
        return -1;
    int32_t off;
    memcpy(&off, b + 9, sizeof off);
    /* Past the hook lists, inside the struct: uc_struct is a few KiB. */
    return off >= 256 && off < 65536 ? off : -1;
}
#else
long vcpu_exit_check_offset(void) { return -1; }
#endif

void vcpu_exit_checks_open(cpu *c)
{
    c->no_exit_flag = NULL;
    if ((uc_version(NULL, NULL) >> 8) != 0x020104u) /* 2.1.4: the layout the probe test checks */
        return;
    long off = vcpu_exit_check_offset();
    if (off < 0)
        return;
    uint8_t *flag = (uint8_t *)c->uc + off;
    if (*flag != 0)
        return; /* not the freshly opened engine's false: not the field we think */
    c->no_exit_flag = flag;
}

/* While any hook that may stop inside a block is installed, or while stepping, translations
 * keep the check. Sites the CPU model may refuse in a way it cannot undo afterwards
 * (exit_checks_sticky, mmu_fill.c) keep it for the rest of the run. */
bool vcpu_exit_checks_wanted(const cpu *c)
{
    return c->exit_checks_sticky || c->nbreakpoints || c->nwatch || c->store_traced || c->nstore_hooks ||
           c->check_hook || c->mmu_reference;
}

void vcpu_exit_checks(cpu *c, bool on)
{
    if (c->no_exit_flag)
        *c->no_exit_flag = !on;
}
