/* cpu/disasm.c: block instruction counts, port I/O positions, and which instructions may be
 * stepped by a host-set trap flag. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "cpu/disasm.h"
#include "support/suite_main.h"

static disasm *d;

static void setup(void)
{
    vm_error e;
    d = disasm_open(&e);
    ck_assert_msg(d != NULL, "%s", e.msg);
}

static void teardown(void) { disasm_close(d); }

/* Two plain instructions, then `tail` (one instruction), then a plain one. */
static bool safe_with(const uint8_t *tail, size_t n, uint32_t count)
{
    uint8_t code[32] = {0x01, 0xd0, 0x49}; /* add %edx,%eax; dec %ecx */
    memcpy(code + 3, tail, n);
    code[3 + n] = 0x90; /* nop */
    return disasm_trap_step_safe(d, code, 4 + n, 0x1000, count);
}

START_TEST(test_counts_whole_instructions_and_finds_the_first_port_access)
{
    /* mov $1,%eax; out %al,$0x80; in $0x60,%al; jmp . */
    const uint8_t code[] = {0xb8, 1, 0, 0, 0, 0xe6, 0x80, 0xe4, 0x60, 0xeb, 0xfe};
    uint32_t first_io = 0, first_msr = 0, ops[DISASM_MAX_TLB_OPS];
    int nops = 0;
    int task = 0;
    ck_assert_uint_eq(disasm_scan(d, code, sizeof code, 0x1000, &first_io, &first_msr, ops, &nops, &task), 4);
    ck_assert_uint_eq(first_io, 2);
    ck_assert_uint_eq(first_msr, 0);
    ck_assert_uint_eq(disasm_count(d, code, 6, 0x1000), 1); /* `out` cut in half does not count */
    ck_assert_uint_eq(disasm_count_until(d, code, sizeof code, 0x1000, 0x1007), 2);
}
END_TEST

START_TEST(test_scan_finds_the_first_msr_access_and_its_length)
{
    /* nop; nop; wrmsr; rdmsr; ds rdmsr */
    const uint8_t code[] = {0x90, 0x90, 0x0f, 0x30, 0x0f, 0x32, 0x3e, 0x0f, 0x32};
    uint32_t first_io = 0, first_msr = 0, ops[DISASM_MAX_TLB_OPS];
    int nops = 0;
    int task = 0;
    ck_assert_uint_eq(disasm_scan(d, code, sizeof code, 0x1000, &first_io, &first_msr, ops, &nops, &task), 5);
    ck_assert_uint_eq(first_msr, 3);
    ck_assert_uint_eq(first_io, 0);
    bool write = false;
    ck_assert_uint_eq(disasm_msr_insn(code + 2, 7, &write), 2);
    ck_assert(write);
    ck_assert_uint_eq(disasm_msr_insn(code + 6, 3, &write), 3);
    ck_assert(!write);
    ck_assert_uint_eq(disasm_msr_insn(code, 9, &write), 0); /* a nop */
    ck_assert_uint_eq(disasm_msr_insn(code + 2, 1, &write), 0); /* cut short */
}
END_TEST

START_TEST(test_scan_finds_the_instructions_that_invalidate_tlb_entries)
{
    /* mov %eax,%cr3; mov %cr3,%eax; invlpg (%eax); mov %eax,%cr0; mov %eax,%cr2; lmsw %ax; invlpg 8(%ebx) */
    const uint8_t code[] = {0x0f, 0x22, 0xd8, 0x0f, 0x20, 0xd8, 0x0f, 0x01, 0x38, 0x0f,
                            0x22, 0xc0, 0x0f, 0x22, 0xd0, 0x0f, 0x01, 0xf0, 0x0f, 0x01, 0x7b, 0x08};
    uint32_t first_io = 0, first_msr = 0, ops[DISASM_MAX_TLB_OPS];
    int nops = 0;
    int task = 0;
    ck_assert_uint_eq(disasm_scan(d, code, sizeof code, 0x1000, &first_io, &first_msr, ops, &nops, &task), 7);
    ck_assert_int_eq(nops, 5); /* CR2 and reads are not */
    const uint32_t want[] = {0, 6, 9, 15, 18};
    for (int i = 0; i < nops; i++)
        ck_assert_uint_eq(ops[i], want[i]);
}
END_TEST

START_TEST(test_invlpg_operands_are_decoded_with_their_segment)
{
    disasm_tlb_op op;
    const uint8_t sib[] = {0x64, 0x0f, 0x01, 0xbc, 0x8e, 0x00, 0x10, 0x00, 0x00}; /* invlpg %fs:0x1000(%esi,%ecx,4) */
    ck_assert(disasm_decode_tlb_op(sib, sizeof sib, &op));
    ck_assert_int_eq(op.kind, DISASM_TLB_INVLPG);
    ck_assert_int_eq(op.seg, 4);
    ck_assert_int_eq(op.base, 6);
    ck_assert_int_eq(op.index, 1);
    ck_assert_uint_eq(op.scale, 4);
    ck_assert_uint_eq(op.disp, 0x1000);
    const uint8_t ebp[] = {0x0f, 0x01, 0x7d, 0xfc}; /* invlpg -4(%ebp): SS by default */
    ck_assert(disasm_decode_tlb_op(ebp, sizeof ebp, &op));
    ck_assert_int_eq(op.seg, 2);
    ck_assert_uint_eq(op.disp, 0xFFFFFFFCu);
    const uint8_t abs32[] = {0x0f, 0x01, 0x3d, 0x00, 0x00, 0x40, 0x00}; /* invlpg 0x400000 */
    ck_assert(disasm_decode_tlb_op(abs32, sizeof abs32, &op));
    ck_assert(op.base == -1 && op.index == -1 && op.disp == 0x400000 && op.seg == 3);
    const uint8_t rdtscp[] = {0x0f, 0x01, 0xf9};
    ck_assert(!disasm_decode_tlb_op(rdtscp, sizeof rdtscp, &op));
}
END_TEST

/* The CPU model's sites: SSE accesses that must be aligned (with their operand), and not the
 * unaligned forms, scalar operands or register forms. */
START_TEST(test_sse_instructions_needing_aligned_operands_are_sites)
{
    static const struct {
        uint8_t b[8];
        size_t n;
        bool site;
    } cases[] = {
        {{0x0f, 0x28, 0x43, 0x08}, 4, true},        /* movaps 8(%ebx),%xmm0 */
        {{0x0f, 0x29, 0x03}, 3, true},              /* movaps %xmm0,(%ebx) */
        {{0x66, 0x0f, 0x6f, 0x06}, 4, true},        /* movdqa (%esi),%xmm0 */
        {{0x66, 0x0f, 0xfe, 0x06}, 4, true},        /* paddd (%esi),%xmm0 */
        {{0xf3, 0x0f, 0x6f, 0x06}, 4, false},       /* movdqu */
        {{0x0f, 0x10, 0x06}, 3, false},             /* movups */
        {{0xf3, 0x0f, 0x58, 0x06}, 4, false},       /* addss: m32 */
        {{0x0f, 0x28, 0xc1}, 3, false},             /* movaps %xmm1,%xmm0 */
        {{0x0f, 0xfe, 0x06}, 3, false},             /* paddd (%esi),%mm0: MMX, m64 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        disasm_tlb_op op;
        bool site = disasm_decode_site(cases[i].b, cases[i].n, &op) && op.kind == DISASM_SSE_ALIGNED;
        ck_assert_msg(site == cases[i].site, "case %zu", i);
    }
    disasm_tlb_op op;
    const uint8_t fs_sib[] = {0x64, 0x66, 0x0f, 0x7f, 0x44, 0x8e, 0x10}; /* movdqa %xmm0,%fs:16(%esi,%ecx,4) */
    ck_assert(disasm_decode_site(fs_sib, sizeof fs_sib, &op));
    ck_assert(op.kind == DISASM_SSE_ALIGNED && op.seg == 4 && op.base == 6 && op.index == 1 && op.scale == 4 &&
              op.disp == 16);
    const uint8_t mov_cr4[] = {0x0f, 0x22, 0xe3}; /* mov %ebx,%cr4 */
    ck_assert(disasm_decode_site(mov_cr4, sizeof mov_cr4, &op));
    ck_assert(op.kind == DISASM_TLB_MODE && op.cr == 4 && op.src == 3);
    const uint8_t iret[] = {0xcf}, sfence[] = {0x0f, 0xae, 0xf8}, clflush[] = {0x0f, 0xae, 0x38};
    ck_assert(disasm_decode_site(iret, 1, &op) && op.kind == DISASM_IRET);
    ck_assert(!disasm_decode_site(sfence, 3, &op));
    ck_assert(disasm_decode_site(clflush, 3, &op) && op.kind == DISASM_CLFLUSH);
}
END_TEST

/* The max model's checks: sgdt, sidt, smsw m16, sldt, str (UMIP) and syscall, sysret are sites;
 * lgdt, lidt and invlpg stay what they were. */
START_TEST(test_umip_and_syscall_instructions_are_sites)
{
    disasm_tlb_op op;
    const uint8_t umip[][3] = {{0x0f, 0x01, 0x00}, {0x0f, 0x01, 0x08}, {0x0f, 0x01, 0x20}, {0x0f, 0x00, 0xc0},
                               {0x0f, 0x00, 0xc8}, {0x0f, 0x00, 0x00}};
    for (size_t i = 0; i < sizeof umip / sizeof umip[0]; i++)
        ck_assert_msg(disasm_decode_site(umip[i], 3, &op) && op.kind == DISASM_UMIP, "umip %zu", i);
    const uint8_t lgdt[] = {0x0f, 0x01, 0x10}, lldt[] = {0x0f, 0x00, 0xd0}, smsw_reg[] = {0x0f, 0x01, 0xe0};
    ck_assert(!disasm_decode_site(lgdt, 3, &op));
    ck_assert(!disasm_decode_site(lldt, 3, &op));
    ck_assert(disasm_decode_site(smsw_reg, 3, &op) && op.kind == DISASM_SMSW_REG);
    const uint8_t syscall[] = {0x0f, 0x05}, sysret[] = {0x0f, 0x07};
    ck_assert(disasm_decode_site(syscall, 2, &op) && op.kind == DISASM_SYSCALL);
    ck_assert(disasm_decode_site(sysret, 2, &op) && op.kind == DISASM_SYSCALL);
    const uint8_t rdrand[] = {0x0f, 0xc7, 0xf0}, rdseed[] = {0x0f, 0xc7, 0xf9}, cmpxchg8b[] = {0x0f, 0xc7, 0x0e};
    ck_assert(disasm_decode_site(rdrand, 3, &op) && op.kind == DISASM_RDRAND);
    ck_assert(disasm_decode_site(rdseed, 3, &op) && op.kind == DISASM_RDRAND);
    ck_assert(!disasm_decode_site(cmpxchg8b, 3, &op));
}
END_TEST

/* Debian's capstone does not decode rdpkru and wrpkru in 32-bit mode: counted all the same. */
START_TEST(test_rdpkru_and_wrpkru_are_counted)
{
    const uint8_t code[] = {0x0f, 0x01, 0xee, 0x90, 0x0f, 0x01, 0xef, 0x0f, 0x05};
    ck_assert_uint_eq(disasm_count(d, code, sizeof code, 0x1000), 4);
    char text[64];
    ck_assert_uint_eq(disasm_one(d, code + 4, 3, 0x1004, text, sizeof text), 3);
    ck_assert_str_eq(text, "wrpkru");
}
END_TEST

START_TEST(test_plain_instructions_may_be_trap_stepped)
{
    const uint8_t mov_load[] = {0x8b, 0x45, 0x08};          /* mov 8(%ebp),%eax */
    const uint8_t lock_add[] = {0xf0, 0x01, 0x03};          /* lock add %eax,(%ebx) */
    const uint8_t jcc[] = {0x75, 0xf0};                     /* jnz */
    const uint8_t call_ind[] = {0xff, 0xd0};                /* call *%eax */
    const uint8_t out[] = {0xe6, 0x80};                     /* out %al,$0x80 */
    const uint8_t mov_ds[] = {0x8e, 0xd8};                  /* mov %eax,%ds */
    ck_assert(safe_with(mov_load, sizeof mov_load, 4));
    ck_assert(safe_with(lock_add, sizeof lock_add, 4));
    ck_assert(safe_with(jcc, sizeof jcc, 4));
    ck_assert(safe_with(call_ind, sizeof call_ind, 4));
    ck_assert(safe_with(out, sizeof out, 4));
    ck_assert(safe_with(mov_ds, sizeof mov_ds, 4));
}
END_TEST

START_TEST(test_instructions_that_would_show_or_miscount_the_trap_flag_are_refused)
{
    static const struct {
        const char *what;
        uint8_t bytes[4];
        size_t n;
    } refused[] = {
        {"pushf", {0x9c}, 1},          {"popf", {0x9d}, 1},
        {"iret", {0xcf}, 1},           {"int3", {0xcc}, 1},
        {"int $0x80", {0xcd, 0x80}, 2}, {"into", {0xce}, 1},
        {"int1", {0xf1}, 1},           {"pop %ss", {0x17}, 1},
        {"mov %eax,%ss", {0x8e, 0xd0}, 2}, {"sti", {0xfb}, 1},
        {"hlt", {0xf4}, 1},            {"rep movsb", {0xf3, 0xa4}, 2},
        {"repne scasb", {0xf2, 0xae}, 2}, {"o16 pushf", {0x66, 0x9c}, 2},
        {"mov %dr7,%eax", {0x0f, 0x21, 0xf8}, 3}, {"mov %eax,%dr6", {0x0f, 0x23, 0xf0}, 3},
        {"sysenter", {0x0f, 0x34}, 2}, {"sysexit", {0x0f, 0x35}, 2},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        ck_assert_msg(!safe_with(refused[i].bytes, refused[i].n, 4), "%s was accepted", refused[i].what);
        /* Only the first n instructions matter: stepping the two before it is fine. */
        ck_assert_msg(safe_with(refused[i].bytes, refused[i].n, 2), "%s refused too early", refused[i].what);
    }
}
END_TEST

START_TEST(test_undecodable_bytes_are_never_trap_stepped)
{
    const uint8_t code[] = {0x01, 0xd0, 0x0f, 0x0b}; /* add; ud2 */
    ck_assert(disasm_trap_step_safe(d, code, sizeof code, 0x1000, 1));
    ck_assert(!disasm_trap_step_safe(d, code, 2, 0x1000, 2)); /* runs out of bytes */
}
END_TEST

static Suite *disasm_suite(void)
{
    Suite *s = suite_create("disasm");
    TCase *tc = tcase_create("decode");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_counts_whole_instructions_and_finds_the_first_port_access);
    tcase_add_test(tc, test_scan_finds_the_first_msr_access_and_its_length);
    tcase_add_test(tc, test_scan_finds_the_instructions_that_invalidate_tlb_entries);
    tcase_add_test(tc, test_invlpg_operands_are_decoded_with_their_segment);
    tcase_add_test(tc, test_sse_instructions_needing_aligned_operands_are_sites);
    tcase_add_test(tc, test_plain_instructions_may_be_trap_stepped);
    tcase_add_test(tc, test_instructions_that_would_show_or_miscount_the_trap_flag_are_refused);
    tcase_add_test(tc, test_undecodable_bytes_are_never_trap_stepped);
    tcase_add_test(tc, test_umip_and_syscall_instructions_are_sites);
    tcase_add_test(tc, test_rdpkru_and_wrpkru_are_counted);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(disasm_suite)
