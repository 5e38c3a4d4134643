/* A ROM call's registers read from Unicorn's CPU state (cpu/regs_direct.c) are the ones the
 * engine's API answers: after each instruction of a snippet that leaves the lazy flags in many
 * states (add, sub, shifts, imul, inc/dec, std/cld, stc) and after host writes of EFLAGS; inside
 * a ROM call after a host write made while the engine ran, which leaves stale arithmetic flags in
 * QEMU's EFLAGS word. And a state seen on another engine is not taken for this one's. */
#include <check.h>
#include <string.h>

#include "cpu/cpu_internal.h"
#include "cpu/regs_direct.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define CODE TU_SNIPPET_BASE

static machine m, other;

static void teardown(void)
{
    machine_free(&m);
    machine_free(&other);
}

static const uint8_t snippet[] = {
    0x9C, 0x58,                   /* pushfd; pop eax: the state is seen */
    0xB8, 0xFF, 0xFF, 0xFF, 0x7F, /* mov eax, 0x7fffffff */
    0x83, 0xC0, 0x01,             /* add eax, 1: OF SF AF PF */
    0x29, 0xC0,                   /* sub eax, eax: ZF PF */
    0xFD,                         /* std */
    0x41, 0x49,                   /* inc ecx; dec ecx */
    0xB8, 0x00, 0x00, 0x00, 0x80, /* mov eax, 0x80000000 */
    0xD1, 0xE0,                   /* shl eax, 1: CF ZF OF */
    0xFC, 0xF9,                   /* cld; stc */
    0xB9, 0x03, 0x00, 0x00, 0x00, /* mov ecx, 3 */
    0x0F, 0xAF, 0xC1,             /* imul eax, ecx */
    0x85, 0xC9,                   /* test ecx, ecx */
    0x9C, 0x58,                   /* pushfd; pop eax */
    0xF4,                         /* hlt */
};

static void boot(machine *mm)
{
    ck_assert(tu_load_code(mm, NULL, snippet, sizeof snippet));
}

/* Every register read directly equals the API's (vcpu_get outside a ROM call). */
static void same_as_api(machine *mm, const char *where)
{
    uint32_t direct[CALL_REGS] = {0};
    ck_assert_msg(vcpu_regs_direct_read(mm->cpu, (1u << CALL_REGS) - 1, direct), "%s: not bound", where);
    for (int r = 0; r < CALL_REGS; r++)
        ck_assert_msg(direct[r] == vcpu_get(mm->cpu, (cpu_reg)r), "%s: %s is 0x%x directly, 0x%x by the API", where,
                      vcpu_reg_names[r], direct[r], vcpu_get(mm->cpu, (cpu_reg)r));
}

START_TEST(test_direct_registers_equal_the_api_after_each_instruction_and_host_write)
{
    boot(&m);
    ck_assert_int_eq(machine_run_until(&m, machine_insns(&m) + 1), END_RUNNING); /* pushfd */
    static const uint32_t host_flags[] = {0x8D7u, 0x2u, 0xCD7u, 0x246u};
    char where[64];
    const uint32_t hlt = CODE + sizeof snippet - 1;
    for (int i = 0; vcpu_get(m.cpu, CPU_EIP) != hlt; i++) {
        ck_assert_int_lt(i, 40);
        snprintf(where, sizeof where, "after instruction %d", i);
        same_as_api(&m, where);
        if (i == 6 || i == 12) { /* a host write of EFLAGS: its arithmetic flags go to QEMU's word */
            uint32_t eflags = vcpu_get(m.cpu, CPU_EFLAGS);
            ck_assert(vcpu_set(m.cpu, CPU_EFLAGS, host_flags[i / 6 - 1] | (eflags & 0x200u)));
            same_as_api(&m, "after a host write");
            ck_assert(vcpu_set(m.cpu, CPU_EFLAGS, host_flags[i / 6 + 1] | (eflags & 0x200u)));
            same_as_api(&m, "after another host write");
        }
        ck_assert_int_eq(machine_run_until(&m, machine_insns(&m) + 1), END_RUNNING);
    }
    same_as_api(&m, "at the hlt");
}
END_TEST

/* The last pushfd ran on another engine: this one is not bound to that state. */
/* GetInterruptMask logged at its entry, with the registers read directly, after the host
 * cleared the RF an iret loaded (tests/guest/rom_irqflags_stale.asm): its result is the word
 * the slot's own pushfd returned, not the flags the host wrote. */
START_TEST(test_get_interrupt_mask_after_a_host_eflags_write_logs_what_pushfd_returned)
{
    ck_assert(tu_load_snippet(&m, "rom_irqflags_stale"));
    ck_assert_int_eq(machine_run(&m), END_HALTED);
    ck_assert_uint_eq(phys_read32(&m.mem, 0x5000 + 16), 0x600d);
    uint32_t pushed = phys_read32(&m.mem, 0x5000);
    ck_assert_uint_eq(pushed & 0x8D5u, 0); /* 1 + 1: no arithmetic flag */
    ck_assert_ptr_nonnull(m.cpu->regs_state); /* the second call read its registers directly */
    const vm_event *last = tu_last_event(&m.log, EV_VMI_CALL);
    ck_assert_uint_eq(last->num, 31);
    ck_assert_uint_eq(last->insns, 3); /* logged at its entry */
    ck_assert_uint_eq(last->result, pushed);
}
END_TEST

START_TEST(test_a_state_seen_on_another_engine_is_not_bound)
{
    boot(&m);
    boot(&other);
    ck_assert_int_eq(machine_run_until(&other, machine_insns(&other) + 1), END_RUNNING); /* other's pushfd */
    uint32_t regs[CALL_REGS];
    ck_assert(!vcpu_regs_direct_read(m.cpu, 1u << CPU_EAX, regs));
    ck_assert(vcpu_regs_direct_read(other.cpu, 1u << CPU_EAX, regs)); /* its own */
    ck_assert_int_eq(machine_run_until(&m, machine_insns(&m) + 1), END_RUNNING); /* m's pushfd */
    same_as_api(&m, "m after its pushfd");
    same_as_api(&other, "other, still bound");
}
END_TEST

static Suite *regs_direct_suite(void)
{
    Suite *s = suite_create("regs_direct");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_direct_registers_equal_the_api_after_each_instruction_and_host_write);
    tcase_add_test(tc, test_get_interrupt_mask_after_a_host_eflags_write_logs_what_pushfd_returned);
    tcase_add_test(tc, test_a_state_seen_on_another_engine_is_not_bound);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(regs_direct_suite)
