/* ucloop: loop.elf's 6-instruction loop (the same bytes) run by bare Unicorn, to measure what
 * Unicorn itself and a per-block hook cost, apart from the rest of vmiemu.
 *
 *   ucloop none|block ITERS
 *
 * none:  no hooks at all.
 * block: one empty UC_HOOK_BLOCK callback (it only counts blocks), the kind of hook vmiemu
 *        uses to keep its instruction count.
 * Prints `ucloop: checksum 0x...` (equal to loop.elf's for the same ITERS) and, for block,
 * the number of blocks seen; exits 0 on success, 1 on error.
 * Built by scripts/bench.sh against the same libunicorn.a as vmiemu. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

#define BASE 0x100000u

/* add %edx,%eax; xor %eax,%edx; sub $0x3B9ACA07,%edx; rol $3,%eax; dec %ecx; jnz -16 */
static const uint8_t code[] = {
    0x01, 0xd0, 0x31, 0xc2, 0x81, 0xea, 0x07, 0xca, 0x9a, 0x3b,
    0xc1, 0xc0, 0x03, 0x49, 0x75, 0xf0,
};

static void on_block(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
    (void)uc;
    (void)address;
    (void)size;
    ++*(uint64_t *)user;
}

static int fail(const char *what, uc_err e)
{
    fprintf(stderr, "ucloop: %s: %s\n", what, uc_strerror(e));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "none") != 0 && strcmp(argv[1], "block") != 0)) {
        fprintf(stderr, "usage: ucloop none|block ITERS\n");
        return 1;
    }
    char *end;
    unsigned long iters = strtoul(argv[2], &end, 10);
    if (*end || iters == 0 || iters > UINT32_MAX) {
        fprintf(stderr, "ucloop: ITERS must be 1..4294967295\n");
        return 1;
    }
    uc_engine *uc;
    uc_err e = uc_open(UC_ARCH_X86, UC_MODE_32, &uc);
    if (e)
        return fail("uc_open", e);
    if ((e = uc_mem_map(uc, BASE, 0x1000, UC_PROT_ALL)) ||
        (e = uc_mem_write(uc, BASE, code, sizeof code)))
        return fail("mapping the code", e);
    uint32_t a = 0x12345678, b = 0x9ABCDEF0, n = (uint32_t)iters;
    uc_reg_write(uc, UC_X86_REG_EAX, &a);
    uc_reg_write(uc, UC_X86_REG_EDX, &b);
    uc_reg_write(uc, UC_X86_REG_ECX, &n);
    uint64_t blocks = 0;
    uc_hook h;
    if (argv[1][0] == 'b' && (e = uc_hook_add(uc, &h, UC_HOOK_BLOCK, (void *)on_block, &blocks, 1, 0)))
        return fail("uc_hook_add", e);
    if ((e = uc_emu_start(uc, BASE, BASE + sizeof code, 0, 0)))
        return fail("uc_emu_start", e);
    uc_reg_read(uc, UC_X86_REG_EAX, &a);
    uc_reg_read(uc, UC_X86_REG_EDX, &b);
    printf("ucloop: checksum 0x%08" PRIx32 "\n", a ^ b);
    if (argv[1][0] == 'b')
        printf("ucloop: %" PRIu64 " blocks\n", blocks);
    uc_close(uc);
    return 0;
}
