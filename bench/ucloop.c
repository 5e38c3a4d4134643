/* ucloop: loop.elf's 6-instruction loop (the same bytes) run by bare Unicorn, to measure what
 * Unicorn itself, a per-block hook and a hypercall trapped by that hook cost, apart from the
 * rest of vmiemu.
 *
 *   ucloop none|block|call ITERS
 *
 * none:  no hooks at all.
 * block: one empty UC_HOOK_BLOCK callback (it only counts blocks), the kind of hook vmiemu
 *        uses to keep its instruction count.
 * call:  the loop also calls a ROM-like slot (a `ret` in its own page), trapped the way vmiemu
 *        traps a VMI call: the block hook sees the slot's address, reads EAX..EFLAGS in one
 *        batch and writes a 64-bit result to EDX:EAX (what GetCycleCounter does), then the
 *        slot's `ret` runs. Like vmiemu, it fills Unicorn's TLB itself (UC_TLB_VIRTUAL) and
 *        gives the stack page no execute right, or every store would take Unicorn's slow
 *        not-dirty path. The least a hypercall built on Unicorn 2.1.4's hooks can cost.
 * Prints `ucloop: checksum 0x...` (none and block: equal to loop.elf's for the same ITERS),
 * for block and call the number of blocks seen, for call the number of calls; exits 0 on
 * success, 1 on error.
 * Built by scripts/bench.sh against the same libunicorn.a as vmiemu. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

#define BASE 0x100000u
#define SLOT 0xC0000u  /* where vmiemu's ROM sits */
#define STACK 0x80000u /* one page; ESP starts at its top */

/* add %edx,%eax; xor %eax,%edx; sub $0x3B9ACA07,%edx; rol $3,%eax; dec %ecx; jnz -16 */
static const uint8_t loop_code[] = {
    0x01, 0xd0, 0x31, 0xc2, 0x81, 0xea, 0x07, 0xca, 0x9a, 0x3b,
    0xc1, 0xc0, 0x03, 0x49, 0x75, 0xf0,
};

/* The same with `call SLOT` before the dec: the rel32 (offset 14) is filled in by main. */
enum { CALL_AT = 13, CALL_NEXT = 18 };
static uint8_t call_code[] = {
    0x01, 0xd0, 0x31, 0xc2, 0x81, 0xea, 0x07, 0xca, 0x9a, 0x3b,
    0xc1, 0xc0, 0x03, 0xe8, 0, 0, 0, 0, 0x49, 0x75, 0xeb,
};

typedef struct counts {
    uint64_t blocks, calls;
} counts;

static void on_block(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
    (void)uc;
    (void)address;
    (void)size;
    ((counts *)user)->blocks++;
}

static void on_block_trapping(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
    (void)size;
    counts *n = user;
    n->blocks++;
    if (address != SLOT)
        return;
    n->calls++;
    static const int ids[] = {UC_X86_REG_EAX, UC_X86_REG_EBX, UC_X86_REG_ECX,
                              UC_X86_REG_EDX, UC_X86_REG_ESI, UC_X86_REG_EDI,
                              UC_X86_REG_EBP, UC_X86_REG_ESP, UC_X86_REG_EFLAGS};
    uint32_t regs[9];
    void *ptrs[9];
    for (int i = 0; i < 9; i++)
        ptrs[i] = &regs[i];
    uc_reg_read_batch(uc, (int *)ids, ptrs, 9);
    uint64_t result = n->blocks * 3 + regs[0]; /* depends on the arguments, as a call's does */
    uint32_t lo = (uint32_t)result, hi = (uint32_t)(result >> 32);
    uc_reg_write(uc, UC_X86_REG_EAX, &lo);
    uc_reg_write(uc, UC_X86_REG_EDX, &hi);
}

/* Identity mapping; only code pages are executable (see `call` above). */
static bool on_tlb_fill(uc_engine *uc, uint64_t vaddr, uc_mem_type type, uc_tlb_entry *e, void *user)
{
    (void)uc;
    (void)type;
    (void)user;
    e->paddr = vaddr & ~0xFFFull;
    e->perms = (vaddr >> 12) == (STACK >> 12) ? UC_PROT_READ | UC_PROT_WRITE : UC_PROT_ALL;
    return true;
}

static int fail(const char *what, uc_err e)
{
    fprintf(stderr, "ucloop: %s: %s\n", what, uc_strerror(e));
    return 1;
}

int main(int argc, char **argv)
{
    const char *mode = argc == 3 ? argv[1] : "";
    bool hook = strcmp(mode, "block") == 0, call = strcmp(mode, "call") == 0;
    if (!hook && !call && strcmp(mode, "none") != 0) {
        fprintf(stderr, "usage: ucloop none|block|call ITERS\n");
        return 1;
    }
    char *end;
    unsigned long iters = strtoul(argv[2], &end, 10);
    if (*end || iters == 0 || iters > UINT32_MAX) {
        fprintf(stderr, "ucloop: ITERS must be 1..4294967295\n");
        return 1;
    }
    uint32_t rel = SLOT - (BASE + CALL_NEXT);
    memcpy(&call_code[CALL_AT + 1], &rel, sizeof rel);
    const uint8_t *code = call ? call_code : loop_code;
    size_t code_size = call ? sizeof call_code : sizeof loop_code;
    static const uint8_t ret = 0xc3;

    uc_engine *uc;
    uc_err e = uc_open(UC_ARCH_X86, UC_MODE_32, &uc);
    if (e)
        return fail("uc_open", e);
    if ((e = uc_mem_map(uc, BASE, 0x1000, UC_PROT_ALL)) ||
        (e = uc_mem_write(uc, BASE, code, code_size)) ||
        (e = uc_mem_map(uc, SLOT, 0x1000, UC_PROT_ALL)) ||
        (e = uc_mem_write(uc, SLOT, &ret, 1)) ||
        (e = uc_mem_map(uc, STACK, 0x1000, UC_PROT_ALL)))
        return fail("mapping the code", e);
    uint32_t a = 0x12345678, b = 0x9ABCDEF0, n = (uint32_t)iters, sp = STACK + 0x1000;
    uc_reg_write(uc, UC_X86_REG_EAX, &a);
    uc_reg_write(uc, UC_X86_REG_EDX, &b);
    uc_reg_write(uc, UC_X86_REG_ECX, &n);
    uc_reg_write(uc, UC_X86_REG_ESP, &sp);
    counts seen = {0, 0};
    uc_hook h;
    if (call && ((e = uc_ctl_tlb_mode(uc, UC_TLB_VIRTUAL)) ||
                 (e = uc_hook_add(uc, &h, UC_HOOK_TLB_FILL, (void *)on_tlb_fill, NULL, 1, 0))))
        return fail("filling the TLB", e);
    if ((hook || call) &&
        (e = uc_hook_add(uc, &h, UC_HOOK_BLOCK, call ? (void *)on_block_trapping : (void *)on_block,
                         &seen, 1, 0)))
        return fail("uc_hook_add", e);
    if ((e = uc_emu_start(uc, BASE, BASE + code_size, 0, 0)))
        return fail("uc_emu_start", e);
    uc_reg_read(uc, UC_X86_REG_EAX, &a);
    uc_reg_read(uc, UC_X86_REG_EDX, &b);
    printf("ucloop: checksum 0x%08" PRIx32 "\n", a ^ b);
    if (hook || call)
        printf("ucloop: %" PRIu64 " blocks\n", seen.blocks);
    if (call)
        printf("ucloop: %" PRIu64 " calls\n", seen.calls);
    uc_close(uc);
    return 0;
}
