/* Each VMI call's semantics and result registers, performed through the ROM trap on a
 * machine stopped at a known instruction count. */
#include <check.h>
#include <string.h>

#include "emu/machine.h"
#include "rom/rom.h"
#include "rom/rom_handlers.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define STACK 0x7000u
#define RET 0x00100000u
#define SLOT(n) (ROM_SLOT_BASE + (n) * ROM_SLOT_SIZE)

static machine m;

/* Boot hello and run it for `insns` instructions, then leave the machine ready for calls. */
static void boot(const machine_config *cfg, uint64_t insns)
{
    machine_config c;
    if (cfg)
        c = *cfg;
    else
        machine_config_defaults(&c);
    c.max_insns = insns;
    vm_error err = {0};
    ck_assert_msg(machine_init(&m, &c, tu_kernel("hello"), &err), "%s", err.msg);
    machine_set_serial_out(&m, NULL, NULL);
    ck_assert_int_eq(machine_run(&m), END_LIMIT);
    ck_assert_uint_eq(machine_insns(&m), insns);
    m.end = END_RUNNING; /* calls below may end the run again */
}

static void setup(void) { boot(NULL, 1000); }
static void teardown(void) { machine_free(&m); }

/* Perform the call at ROM offset `off` as a guest `call` would reach it. */
static bool call_at(uint32_t off, uint32_t eax, uint32_t edx, uint32_t ecx, uint32_t s4, uint32_t s8)
{
    uint32_t stack[3] = {RET, s4, s8};
    ck_assert(phys_write(&m.mem, STACK, stack, sizeof stack));
    ck_assert(vcpu_set(m.cpu, CPU_ESP, STACK));
    ck_assert(vcpu_set(m.cpu, CPU_EAX, eax));
    ck_assert(vcpu_set(m.cpu, CPU_EDX, edx));
    ck_assert(vcpu_set(m.cpu, CPU_ECX, ecx));
    ck_assert(vcpu_set(m.cpu, CPU_EBX, 0xB0B0B0B0u));
    ck_assert(vcpu_set(m.cpu, CPU_ESI, 0x51515151u));
    ck_assert(vcpu_set(m.cpu, CPU_EDI, 0xD1D1D1D1u));
    ck_assert(vcpu_set(m.cpu, CPU_EBP, 0xBBBBBBBBu));
    return machine_rom_call(&m, PHYS_ROM_BASE + off);
}

static uint64_t edx_eax(void)
{
    return (uint64_t)vcpu_get(m.cpu, CPU_EDX) << 32 | vcpu_get(m.cpu, CPU_EAX);
}

static const vm_event *last_event(void) { return tu_event(&m.log, evlog_count(&m.log) - 1); }

static void assert_returned_and_preserved(void)
{
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EIP), RET);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_ESP), STACK + 4);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EBX), 0xB0B0B0B0u);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_ESI), 0x51515151u);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EDI), 0xD1D1D1D1u);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EBP), 0xBBBBBBBBu);
}

START_TEST(test_init_returns_zero_and_activates_the_rom)
{
    m.rom.initialized = false;
    ck_assert(call_at(ROM_INIT_OFFSET, 0xFFFF, 0, 0, 0, 0));
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EAX), 0);
    ck_assert(m.rom.initialized);
    ck_assert_uint_eq(last_event()->num, EV_NUM_INIT);
    assert_returned_and_preserved();
}
END_TEST

START_TEST(test_relocation_info_gives_call_rel_slot_address)
{
    ck_assert(call_at(ROM_RELOC_OFFSET, 67, 0, 0, 0, 0));
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EAX), PHYS_ROM_BASE + SLOT(67));
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EDX) & 0xFF, ROM_RELOC_CALL_REL);
    assert_returned_and_preserved();
}
END_TEST

START_TEST(test_relocation_info_answers_jump_rel_for_iret)
{
    ck_assert(call_at(ROM_RELOC_OFFSET, 33, 0, 0, 0, 0));
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EDX) & 0xFF, ROM_RELOC_JUMP_REL);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EAX), PHYS_ROM_BASE + SLOT(33));
}
END_TEST

START_TEST(test_relocation_info_answers_none_for_undefined_and_unimplemented)
{
    uint32_t nums[] = {49, 60, 72, 74, 1000};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        ck_assert(call_at(ROM_RELOC_OFFSET, nums[i], 0x1234, 0, 0, 0));
        ck_assert_uint_eq(edx_eax(), 0);
    }
}
END_TEST

START_TEST(test_relocation_is_relative_to_the_alias_called_through)
{
    rom_frame f = {.args = {27}, .linear_base = 0xC00C0000u};
    rom_do_get_reloc(NULL, &f);
    ck_assert_uint_eq((uint32_t)f.result, 0xC00C0000u + SLOT(27));
    ck_assert_uint_eq(f.result >> 32, ROM_RELOC_CALL_REL);
}
END_TEST

START_TEST(test_cpuid_call_matches_the_instruction)
{
    ck_assert(call_at(SLOT(0), 0, 0, 0, 0, 0));
    char vendor[13] = {0};
    uint32_t b = vcpu_get(m.cpu, CPU_EBX), d = vcpu_get(m.cpu, CPU_EDX), c = vcpu_get(m.cpu, CPU_ECX);
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    ck_assert_str_eq(vendor, "GenuineIntel");
    ck_assert(call_at(SLOT(0), 1, 0, 0, 0, 0));
    uint32_t want[4] = {1, 0, 0, 0};
    machine_cpuid(&m, want);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EAX), want[0]);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EDX), want[3]);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EDX) & 0x10, 0x10); /* TSC */
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EIP), RET);
}
END_TEST

START_TEST(test_rdtsc_is_the_instruction_count)
{
    ck_assert(call_at(SLOT(27), 0, 0, 0, 0, 0));
    ck_assert_uint_eq(edx_eax(), 1000);
    assert_returned_and_preserved();
}
END_TEST

START_TEST(test_cycle_counters_real_available_stolen)
{
    ck_assert(call_at(SLOT(67), 0, 0, 0, 0, 0));
    ck_assert_uint_eq(edx_eax(), 1000);
    ck_assert(call_at(SLOT(67), 1, 0, 0, 0, 0));
    ck_assert_uint_eq(edx_eax(), 1000);
    ck_assert(call_at(SLOT(67), 2, 0, 0, 0, 0));
    ck_assert_uint_eq(edx_eax(), 0);
    assert_returned_and_preserved();
}
END_TEST

START_TEST(test_cycle_counter_rejects_unknown_counter)
{
    ck_assert(call_at(SLOT(67), 7, 0, 0, 0, 0));
    ck_assert_uint_eq(edx_eax(), 0);
    ck_assert(last_event()->failed);
    ck_assert_int_eq(m.end, END_RUNNING); /* a guest-visible failure, not the end */
}
END_TEST

START_TEST(test_cycle_frequency_follows_cpu_mhz)
{
    machine_free(&m);
    machine_config c;
    machine_config_defaults(&c);
    c.cpu_mhz = 1234;
    boot(&c, 500);
    ck_assert(call_at(SLOT(66), 0, 0, 0, 0, 0));
    ck_assert_uint_eq(edx_eax(), 1234000000ull);
}
END_TEST

START_TEST(test_wallclock_is_epoch_plus_cycles_at_frequency)
{
    machine_free(&m);
    machine_config c;
    machine_config_defaults(&c);
    c.cpu_mhz = 1;
    c.epoch = 1000;
    boot(&c, 25000); /* 25000 cycles at 1 MHz = 25 ms */
    ck_assert(call_at(SLOT(70), 0, 0, 0, 0, 0));
    ck_assert_uint_eq(edx_eax(), 1000ull * 1000000000ull + 25000000ull);
}
END_TEST

START_TEST(test_wallclock_updated_is_zero)
{
    ck_assert(call_at(SLOT(71), 0, 0, 0, 0, 0));
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EAX), 0);
}
END_TEST

START_TEST(test_iodelay_changes_no_register)
{
    ck_assert(call_at(SLOT(65), 0xAAAA, 0xDDDD, 0xCCCC, 0, 0));
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EAX), 0xAAAA);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EDX), 0xDDDD);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_ECX), 0xCCCC);
    assert_returned_and_preserved();
}
END_TEST

START_TEST(test_halt_enables_interrupts_and_waits)
{
    ck_assert(call_at(SLOT(35), 0, 0, 0, 0, 0));
    ck_assert(m.halt_requested);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EFLAGS) & 0x200, 0x200);
    assert_returned_and_preserved();
}
END_TEST

START_TEST(test_halt_with_nothing_that_can_wake_it_ends_the_run)
{
    /* A Multiboot kernel starts with the BIOS's timer running on an open IRQ 0 (emu/firmware.h):
     * masked, as by a kernel that uses neither, nothing is left to wake the CPU. */
    pic_write(&m.pic.chip[PIC_MASTER], 1, 1, 0xFF);
    ck_assert(call_at(SLOT(35), 0, 0, 0, 0, 0));
    machine_idle(&m);
    ck_assert_int_eq(m.end, END_HALTED);
    ck_assert_ptr_nonnull(strstr(m.end_message, "no pending events"));
}
END_TEST

START_TEST(test_shutdown_and_reboot_end_the_run_distinctly)
{
    ck_assert(call_at(SLOT(37), 0, 0, 0, 0, 0));
    ck_assert_int_eq(m.end, END_SHUTDOWN);
    m.end = END_RUNNING;
    ck_assert(call_at(SLOT(36), 0, 0, 0, 0, 0));
    ck_assert_int_eq(m.end, END_REBOOT);
}
END_TEST

/* The first call this build does not implement, or NULL when every call is implemented. */
static const rom_call *unimplemented(void)
{
    for (uint32_t n = 0; n < ROM_NUM_CALLS; n++)
        if (rom_call_find(n) && !rom_call_implemented(rom_call_find(n)))
            return rom_call_find(n);
    return NULL;
}

START_TEST(test_calling_an_unimplemented_call_is_a_guest_error)
{
    const rom_call *c = unimplemented();
    if (!c) { /* every defined call is implemented: all answer a relocation */
        for (uint32_t n = 0; n < ROM_NUM_CALLS; n++)
            ck_assert(!rom_call_find(n) || rom_reloc_of(n) != ROM_RELOC_NONE);
        return;
    }
    ck_assert_int_eq(rom_reloc_of(c->num), ROM_RELOC_NONE);
    ck_assert(call_at(SLOT(c->num), 0x1000, 0, 0, 0, 0));
    ck_assert_int_eq(m.end, END_CRASH);
    ck_assert_ptr_nonnull(strstr(m.end_message, c->name));
    ck_assert(last_event()->failed);
}
END_TEST

START_TEST(test_jumping_into_the_middle_of_a_slot_is_a_guest_error)
{
    ck_assert(call_at(SLOT(27) + 3, 0, 0, 0, 0, 0));
    ck_assert_int_eq(m.end, END_CRASH);
    ck_assert_ptr_nonnull(strstr(m.end_message, "not a call entry"));
    ck_assert_uint_eq(last_event()->kind, EV_GUEST_ERROR);
}
END_TEST

START_TEST(test_call_with_unreadable_stack_is_a_guest_error)
{
    ck_assert(vcpu_set(m.cpu, CPU_ESP, 0xFFFFFFF0u)); /* no memory there */
    ck_assert(machine_rom_call(&m, PHYS_ROM_BASE + SLOT(27)));
    ck_assert_int_eq(m.end, END_CRASH);
    ck_assert_ptr_nonnull(strstr(m.end_message, "unreadable stack"));
}
END_TEST

START_TEST(test_code_outside_the_rom_is_not_a_call)
{
    ck_assert(!machine_rom_call(&m, 0x000C8000u)); /* hole after the ROM image */
    ck_assert(!machine_rom_call(&m, 0x001C0000u)); /* same low bits, ordinary RAM */
    ck_assert_int_eq(m.end, END_RUNNING);
}
END_TEST

START_TEST(test_no_rom_machine_never_dispatches)
{
    machine_free(&m);
    machine_config c;
    machine_config_defaults(&c);
    c.rom_enabled = false;
    boot(&c, 100);
    ck_assert(!machine_rom_call(&m, PHYS_ROM_BASE + SLOT(27)));
    ck_assert_uint_eq(phys_read32(&m.mem, PHYS_ROM_BASE), 0);
}
END_TEST

START_TEST(test_event_records_caller_arguments_and_result)
{
    /* Put a `call rel32` in front of the return address so the caller's EIP is known. */
    uint8_t call_insn[5] = {0xE8, 0, 0, 0, 0};
    ck_assert(phys_write(&m.mem, RET - 5, call_insn, sizeof call_insn));
    ck_assert(call_at(SLOT(67), 0, 0, 0, 0, 0));
    const vm_event *ev = last_event();
    ck_assert_uint_eq(ev->kind, EV_VMI_CALL);
    ck_assert_uint_eq(ev->num, 67);
    ck_assert_uint_eq(ev->eip, RET - 5);
    ck_assert_uint_eq(ev->icount, 1000);
    ck_assert_uint_eq(ev->args[0], 0);
    ck_assert_uint_eq(ev->result, 1000);
    char text[256];
    ev_format_text(ev, 0, text, sizeof text);
    ck_assert_ptr_nonnull(strstr(text, "GetCycleCounter(counter=real) = 1000"));
}
END_TEST

static Suite *calls_suite(void)
{
    Suite *s = suite_create("calls");
    TCase *tc = tcase_create("semantics");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_init_returns_zero_and_activates_the_rom);
    tcase_add_test(tc, test_relocation_info_gives_call_rel_slot_address);
    tcase_add_test(tc, test_relocation_info_answers_jump_rel_for_iret);
    tcase_add_test(tc, test_relocation_info_answers_none_for_undefined_and_unimplemented);
    tcase_add_test(tc, test_relocation_is_relative_to_the_alias_called_through);
    tcase_add_test(tc, test_cpuid_call_matches_the_instruction);
    tcase_add_test(tc, test_rdtsc_is_the_instruction_count);
    tcase_add_test(tc, test_cycle_counters_real_available_stolen);
    tcase_add_test(tc, test_cycle_counter_rejects_unknown_counter);
    tcase_add_test(tc, test_cycle_frequency_follows_cpu_mhz);
    tcase_add_test(tc, test_wallclock_is_epoch_plus_cycles_at_frequency);
    tcase_add_test(tc, test_wallclock_updated_is_zero);
    tcase_add_test(tc, test_iodelay_changes_no_register);
    tcase_add_test(tc, test_halt_enables_interrupts_and_waits);
    tcase_add_test(tc, test_halt_with_nothing_that_can_wake_it_ends_the_run);
    tcase_add_test(tc, test_shutdown_and_reboot_end_the_run_distinctly);
    tcase_add_test(tc, test_calling_an_unimplemented_call_is_a_guest_error);
    tcase_add_test(tc, test_jumping_into_the_middle_of_a_slot_is_a_guest_error);
    tcase_add_test(tc, test_call_with_unreadable_stack_is_a_guest_error);
    tcase_add_test(tc, test_code_outside_the_rom_is_not_a_call);
    tcase_add_test(tc, test_no_rom_machine_never_dispatches);
    tcase_add_test(tc, test_event_records_caller_arguments_and_result);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(calls_suite)
