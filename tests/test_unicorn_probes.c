/* Probes of the Unicorn behaviours vmiemu relies on (see DESIGN.md, "Unicorn: verified facts").
 * Each test drives a scratch engine through the Unicorn C API directly: i386 32-bit mode, guest
 * memory is a calloc'ed buffer mapped with uc_mem_map_ptr, code is hand-assembled bytes. A Unicorn
 * upgrade that changes one of these behaviours fails here with a message naming the assumption. */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "cpu/blockpatch.h"
#include "cpu/cpuid_direct.h"
#include "cpu/exitcheck.h"
#include "support/suite_main.h"

#define BROKEN "Unicorn assumption broken: "

/* Guest physical layout of a probe engine (flat segments, so linear = physical until paging). */
#define MEM_SIZE 0x200000u /* 2 MiB at physical 0 */
#define CODE 0x1000u
#define DATA 0x2000u
#define GDT 0x3000u
#define CALLER 0x4000u
#define STACK_TOP 0x8000u
#define PAGE_DIR 0x10000u
#define PT_LOW 0x11000u  /* identity-maps linear 0..2 MiB */
#define PT_HIGH 0x12000u /* maps linear 0xC0000000.. */
#define HIGH_LINEAR 0xC0000000u
#define HIGH_PHYS 0x100000u
#define UNMAPPED_PHYS 0x1F000000u /* nothing is mapped there */

typedef struct probe {
    uc_engine *uc;
    uint8_t *mem;
} probe;

static probe P;

/* Map a zeroed buffer at physical 0 into an already opened engine. */
static void map_buffer(probe *p)
{
    p->mem = calloc(1, MEM_SIZE);
    ck_assert_ptr_nonnull(p->mem);
    uc_err e = uc_mem_map_ptr(p->uc, 0, MEM_SIZE, UC_PROT_ALL, p->mem);
    ck_assert_msg(e == UC_ERR_OK, BROKEN "uc_mem_map_ptr of a host buffer failed: %s", uc_strerror(e));
    uint32_t esp = STACK_TOP;
    ck_assert_int_eq(uc_reg_write(p->uc, UC_X86_REG_ESP, &esp), UC_ERR_OK);
}

static void setup(void)
{
    memset(&P, 0, sizeof P);
    uc_err e = uc_open(UC_ARCH_X86, UC_MODE_32, &P.uc);
    ck_assert_msg(e == UC_ERR_OK, BROKEN "uc_open(UC_ARCH_X86, UC_MODE_32) failed: %s", uc_strerror(e));
    map_buffer(&P);
}

static void teardown(void)
{
    if (P.uc)
        uc_close(P.uc);
    free(P.mem);
    memset(&P, 0, sizeof P);
}

static void put(uint32_t addr, const void *bytes, size_t len)
{
    ck_assert_uint_le(addr + len, MEM_SIZE);
    memcpy(P.mem + addr, bytes, len);
}

static void put32(uint32_t addr, uint32_t v) { put(addr, &v, sizeof v); }

static uint32_t get32(uint32_t addr)
{
    uint32_t v;
    memcpy(&v, P.mem + addr, sizeof v);
    return v;
}

static uint32_t reg(int id)
{
    uint32_t v = 0;
    ck_assert_int_eq(uc_reg_read(P.uc, id, &v), UC_ERR_OK);
    return v;
}

static void set_reg(int id, uint32_t v) { ck_assert_int_eq(uc_reg_write(P.uc, id, &v), UC_ERR_OK); }

static uint16_t sel(int id)
{
    uint16_t v = 0;
    ck_assert_int_eq(uc_reg_read(P.uc, id, &v), UC_ERR_OK);
    return v;
}

static void set_sel(int id, uint16_t v)
{
    uc_err e = uc_reg_write(P.uc, id, &v);
    ck_assert_msg(e == UC_ERR_OK, BROKEN "a host write of selector 0x%x failed: %s", v, uc_strerror(e));
}

static uc_err run(uint32_t begin, uint32_t until) { return uc_emu_start(P.uc, begin, until, 0, 0); }

static void run_ok(uint32_t begin, uint32_t until)
{
    uc_err e = run(begin, until);
    ck_assert_msg(e == UC_ERR_OK, "probe code at 0x%x failed: %s (eip 0x%x)", begin, uc_strerror(e), reg(UC_X86_REG_EIP));
}

static uc_hook add_hook(int type, void *cb, void *user, uint64_t begin, uint64_t end)
{
    uc_hook h;
    uc_err e = uc_hook_add(P.uc, &h, type, cb, user, begin, end);
    ck_assert_msg(e == UC_ERR_OK, BROKEN "uc_hook_add(type 0x%x) failed: %s", type, uc_strerror(e));
    return h;
}

static uc_hook add_insn_hook(void *cb, void *user, int insn)
{
    uc_hook h;
    uc_err e = uc_hook_add(P.uc, &h, UC_HOOK_INSN, cb, user, 1, 0, insn);
    ck_assert_msg(e == UC_ERR_OK, BROKEN "uc_hook_add(UC_HOOK_INSN, insn %d) failed: %s", insn, uc_strerror(e));
    return h;
}

/* ---- Shared hook recorders ------------------------------------------------------------------ */

#define MAX_EVENTS 16

typedef struct events {
    unsigned n;
    uint64_t addr[MAX_EVENTS];
    uint32_t size[MAX_EVENTS];
    uint32_t eip[MAX_EVENTS];
    uint32_t value[MAX_EVENTS];
    uint64_t stop_at; /* 0 = never */
    bool stopped;     /* stop_at has been honoured once */
} events;

static void record(events *ev, uint64_t addr, uint32_t size, uint32_t value)
{
    if (ev->n < MAX_EVENTS) {
        ev->addr[ev->n] = addr;
        ev->size[ev->n] = size;
        ev->value[ev->n] = value;
        uc_reg_read(P.uc, UC_X86_REG_EIP, &ev->eip[ev->n]);
    }
    ev->n++;
}

/* Block or code hook: record, and stop once when reaching stop_at. */
static void on_code_stop_once(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
    events *ev = user;
    record(ev, address, size, 0);
    if (ev->stop_at && address == ev->stop_at && !ev->stopped) {
        ev->stopped = true;
        uc_emu_stop(uc);
    }
}

static void on_code_count(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
    (void)uc;
    (void)address;
    (void)size;
    unsigned *calls = user;
    (*calls)++;
}

static void on_interrupt(uc_engine *uc, uint32_t intno, void *user)
{
    (void)uc;
    record(user, intno, 0, 0);
}

static bool on_invalid_count(uc_engine *uc, void *user)
{
    (void)uc;
    record(user, 0, 0, 0);
    return false;
}

/* ---- 1. Host memory mapped with uc_mem_map_ptr ---------------------------------------------- */

/* vmiemu keeps guest RAM in its own buffer (physmem) and reads/writes it directly, without uc_mem_*. */
START_TEST(test_mapped_buffer_is_shared_between_host_and_guest)
{
    static const uint8_t code[] = {
        0xA1, 0x00, 0x20, 0x00, 0x00,                                     /* mov eax, [0x2000] */
        0xC7, 0x05, 0x04, 0x20, 0x00, 0x00, 0xBE, 0xBA, 0xFE, 0xCA,       /* mov dword [0x2004], 0xCAFEBABE */
    };
    put(CODE, code, sizeof code);
    put32(DATA, 0x11223344u);
    run_ok(CODE, CODE + sizeof code);
    ck_assert_msg(reg(UC_X86_REG_EAX) == 0x11223344u, BROKEN "the guest did not read the host's write to the mapped buffer");
    ck_assert_msg(get32(DATA + 4) == 0xCAFEBABEu, BROKEN "a guest write did not land in the mapped host buffer");
    /* Same code again, now cached: a later host write is still seen at once. */
    put32(DATA, 0x55667788u);
    run_ok(CODE, CODE + sizeof code);
    ck_assert_msg(reg(UC_X86_REG_EAX) == 0x55667788u,
                  BROKEN "a host write to the mapped buffer between runs was not seen by the guest (got 0x%x)",
                  reg(UC_X86_REG_EAX));
}
END_TEST

/* ---- 2. Block hook: address, size, stop before the block ------------------------------------ */

/* Block A at 0x1000 (7 bytes) jumps to block B at 0x1010 (8 bytes), which jumps to 0x1020. */
static void put_two_blocks(void)
{
    static const uint8_t a[] = {0xB8, 0x01, 0x00, 0x00, 0x00, /* mov eax, 1 */
                                0xEB, 0x09};                  /* jmp 0x1010 */
    static const uint8_t b[] = {0xBB, 0x02, 0x00, 0x00, 0x00, /* mov ebx, 2 */
                                0x40,                         /* inc eax */
                                0xEB, 0x08};                  /* jmp 0x1020 */
    put(CODE, a, sizeof a);
    put(CODE + 0x10, b, sizeof b);
}

/* vmiemu's instruction count adds a cached per-block count keyed by the block's start and size. */
START_TEST(test_block_hook_receives_the_block_start_and_byte_size)
{
    put_two_blocks();
    events ev = {0};
    add_hook(UC_HOOK_BLOCK, (void *)on_code_stop_once, &ev, 1, 0);
    run_ok(CODE, CODE + 0x20);
    ck_assert_msg(ev.n == 2, BROKEN "expected 2 block hook calls, got %u", ev.n);
    ck_assert_msg(ev.addr[0] == CODE && ev.size[0] == 7,
                  BROKEN "block hook got (0x%llx, %u) for a 7-byte block at 0x1000", (unsigned long long)ev.addr[0], ev.size[0]);
    ck_assert_msg(ev.addr[1] == CODE + 0x10 && ev.size[1] == 8,
                  BROKEN "block hook got (0x%llx, %u) for an 8-byte block at 0x1010", (unsigned long long)ev.addr[1], ev.size[1]);
}
END_TEST

/* vmiemu stops in the block hook when a block would cross the target count: the block must not run. */
START_TEST(test_block_hook_stop_prevents_the_block_from_running)
{
    put_two_blocks();
    events ev = {.stop_at = CODE + 0x10};
    add_hook(UC_HOOK_BLOCK, (void *)on_code_stop_once, &ev, 1, 0);
    uc_err e = run(CODE, CODE + 0x20);
    ck_assert_msg(e == UC_ERR_OK, BROKEN "uc_emu_stop in a block hook made uc_emu_start fail: %s", uc_strerror(e));
    ck_assert_msg(reg(UC_X86_REG_EAX) == 1 && reg(UC_X86_REG_EBX) == 0,
                  BROKEN "the block whose hook called uc_emu_stop ran anyway (eax %u, ebx %u)", reg(UC_X86_REG_EAX),
                  reg(UC_X86_REG_EBX));
    ck_assert_msg(reg(UC_X86_REG_EIP) == CODE + 0x10,
                  BROKEN "after uc_emu_stop in a block hook EIP is 0x%x, not the block start 0x1010", reg(UC_X86_REG_EIP));
}
END_TEST

/* vmiemu resumes at EIP after such a stop and counts the block when its hook fires again. */
START_TEST(test_restarting_at_a_block_stopped_in_its_hook_runs_it_and_fires_the_hook_again)
{
    put_two_blocks();
    events ev = {.stop_at = CODE + 0x10};
    add_hook(UC_HOOK_BLOCK, (void *)on_code_stop_once, &ev, 1, 0);
    run_ok(CODE, CODE + 0x20);
    run_ok(reg(UC_X86_REG_EIP), CODE + 0x20);
    ck_assert_msg(reg(UC_X86_REG_EAX) == 2 && reg(UC_X86_REG_EBX) == 2,
                  BROKEN "restarting at the stopped block did not run it (eax %u, ebx %u)", reg(UC_X86_REG_EAX),
                  reg(UC_X86_REG_EBX));
    ck_assert_msg(ev.n == 3 && ev.addr[2] == CODE + 0x10 && ev.size[2] == 8,
                  BROKEN "the block hook did not fire again for the restarted block (%u calls)", ev.n);
}
END_TEST

/* ---- 3. Redirecting execution from a block hook (the VMI ROM call trap) --------------------- */

static void on_rom_block(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
    (void)size;
    unsigned *calls = user;
    if (address != CODE)
        return;
    (*calls)++;
    uint32_t eax = 0x1234, esp = 0, ret = 0;
    uc_reg_read(uc, UC_X86_REG_ESP, &esp);
    uc_mem_read(uc, esp, &ret, sizeof ret);
    esp += 4;
    uc_reg_write(uc, UC_X86_REG_EAX, &eax);
    uc_reg_write(uc, UC_X86_REG_ESP, &esp);
    uc_reg_write(uc, UC_X86_REG_EIP, &ret);
}

/* A VMI ROM call is serviced in the block hook of its ROM slot, which then returns to the caller. */
START_TEST(test_block_hook_can_redirect_execution_without_running_the_block)
{
    static const uint8_t rom[] = {0x0F, 0x0B};                        /* ud2 */
    static const uint8_t caller[] = {0xE8, 0xFB, 0xCF, 0xFF, 0xFF,   /* call 0x1000 */
                                     0x89, 0xC3};                    /* mov ebx, eax */
    put(CODE, rom, sizeof rom);
    put(CALLER, caller, sizeof caller);
    unsigned calls = 0;
    events faults = {0}, invalid = {0};
    add_hook(UC_HOOK_BLOCK, (void *)on_rom_block, &calls, 1, 0);
    add_hook(UC_HOOK_INTR, (void *)on_interrupt, &faults, 1, 0);
    add_hook(UC_HOOK_INSN_INVALID, (void *)on_invalid_count, &invalid, 1, 0);
    uc_err e = run(CALLER, CALLER + sizeof caller);
    ck_assert_msg(e == UC_ERR_OK, BROKEN "redirecting EIP from a block hook ended the run with: %s", uc_strerror(e));
    ck_assert_msg(invalid.n == 0 && faults.n == 0,
                  BROKEN "the redirected block's ud2 still executed (%u #UD, %u exceptions)", invalid.n, faults.n);
    ck_assert_uint_eq(calls, 1);
    ck_assert_msg(reg(UC_X86_REG_EBX) == 0x1234 && reg(UC_X86_REG_EAX) == 0x1234,
                  BROKEN "registers written in the block hook were lost (eax 0x%x, ebx 0x%x)", reg(UC_X86_REG_EAX),
                  reg(UC_X86_REG_EBX));
    ck_assert_msg(reg(UC_X86_REG_ESP) == STACK_TOP, BROKEN "ESP written in the block hook was lost (0x%x)", reg(UC_X86_REG_ESP));
    ck_assert_msg(reg(UC_X86_REG_EIP) == CALLER + sizeof caller,
                  BROKEN "execution did not continue at the new EIP in the same uc_emu_start (eip 0x%x)", reg(UC_X86_REG_EIP));
}
END_TEST

/* ---- 4. Exact counting: the count=N pitfall and the bounded code hook remedy ---------------- */

/* 0x1000: six `inc eax` and `jmp 0x1010`: one 8-byte block [0x1000, 0x1008). */
#define INCS_END (CODE + 8)
#define INCS_EXIT (CODE + 0x10)

static void put_six_incs(void)
{
    static const uint8_t code[] = {0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0xEB, 0x08};
    put(CODE, code, sizeof code);
}

/* Why vmiemu does not use count=N for exact stops: cached blocks ignore it. */
START_TEST(test_count_is_ignored_by_blocks_translated_without_counting)
{
    put_six_incs();
    run_ok(CODE, INCS_EXIT);
    ck_assert_uint_eq(reg(UC_X86_REG_EAX), 6);
    set_reg(UC_X86_REG_EAX, 0);
    uc_err e = uc_emu_start(P.uc, CODE, INCS_EXIT, 0, 3);
    ck_assert_int_eq(e, UC_ERR_OK);
    ck_assert_msg(reg(UC_X86_REG_EAX) == 6,
                  "Unicorn changed: count=3 over a block cached without counting ran %u instructions, not all 6; "
                  "count=N is now honoured by cached code (run_exact's cache removal may be unnecessary)",
                  reg(UC_X86_REG_EAX));
}
END_TEST

/* Why vmiemu removes the block from the cache before adding its bounded per-instruction hook. */
START_TEST(test_code_hook_added_after_translation_does_not_fire_in_cached_blocks)
{
    put_six_incs();
    run_ok(CODE, INCS_EXIT);
    unsigned calls = 0;
    add_hook(UC_HOOK_CODE, (void *)on_code_count, &calls, CODE, INCS_END - 1);
    set_reg(UC_X86_REG_EAX, 0);
    run_ok(CODE, INCS_EXIT);
    ck_assert_uint_eq(reg(UC_X86_REG_EAX), 6);
    ck_assert_msg(calls == 0,
                  "Unicorn changed: a code hook added after translation fired %u times in the cached block; "
                  "hooks now reach cached code (run_exact's cache removal may be unnecessary)", calls);
}
END_TEST

typedef struct exact {
    unsigned left;  /* instructions still allowed */
    unsigned calls; /* hook invocations */
} exact;

static void on_exact_insn(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
    (void)address;
    (void)size;
    exact *x = user;
    x->calls++;
    if (x->left == 0) {
        uc_emu_stop(uc);
        return;
    }
    x->left--;
}

/* Install vmiemu's run_exact remedy on a block that already ran at full speed. */
static uc_hook start_exact(exact *x, unsigned k)
{
    x->left = k;
    x->calls = 0;
    uc_err e = uc_ctl_remove_cache(P.uc, (uint64_t)CODE, (uint64_t)INCS_END);
    ck_assert_msg(e == UC_ERR_OK, BROKEN "uc_ctl_remove_cache failed: %s", uc_strerror(e));
    return add_hook(UC_HOOK_CODE, (void *)on_exact_insn, x, CODE, INCS_END - 1);
}

/* vmiemu's run_exact: reach an exact instruction count inside a block that is already cached. */
START_TEST(test_removing_the_cache_and_a_bounded_code_hook_stop_after_exactly_k_instructions)
{
    put_six_incs();
    unsigned blocks = 0;
    add_hook(UC_HOOK_BLOCK, (void *)on_code_count, &blocks, 1, 0); /* vmiemu always has one */
    run_ok(CODE, INCS_EXIT);
    ck_assert_uint_eq(reg(UC_X86_REG_EAX), 6);
    set_reg(UC_X86_REG_EAX, 0);
    exact x;
    start_exact(&x, 4);
    uc_err e = run(CODE, INCS_EXIT);
    ck_assert_int_eq(e, UC_ERR_OK);
    ck_assert_msg(reg(UC_X86_REG_EAX) == 4 && reg(UC_X86_REG_EIP) == CODE + 4,
                  BROKEN "cache removal + bounded code hook did not stop after exactly 4 instructions "
                  "(eax %u, eip 0x%x, %u hook calls)", reg(UC_X86_REG_EAX), reg(UC_X86_REG_EIP), x.calls);
    ck_assert_uint_eq(x.calls, 5);
}
END_TEST

/* After run_exact deletes its hook, the block must not keep the slow instrumented translation. */
START_TEST(test_deleting_the_bounded_code_hook_restores_the_uninstrumented_block)
{
    put_six_incs();
    run_ok(CODE, INCS_EXIT);
    set_reg(UC_X86_REG_EAX, 0);
    exact x;
    uc_hook h = start_exact(&x, 4);
    run_ok(CODE, INCS_EXIT);
    ck_assert_uint_eq(reg(UC_X86_REG_EAX), 4);
    ck_assert_int_eq(uc_hook_del(P.uc, h), UC_ERR_OK);
    unsigned calls_before = x.calls;
    run_ok(reg(UC_X86_REG_EIP), INCS_EXIT); /* finish the stopped block */
    ck_assert_uint_eq(reg(UC_X86_REG_EAX), 6);
    set_reg(UC_X86_REG_EAX, 0);
    run_ok(CODE, INCS_EXIT);
    /* With a single code hook Unicorn calls the callback directly from the translated code, so a
     * translation that survived uc_hook_del would go on calling on_exact_insn (slowly, and with a
     * hook that is about to be freed). */
    ck_assert_msg(reg(UC_X86_REG_EAX) == 6 && x.calls == calls_before,
                  BROKEN "after uc_hook_del the block still runs its instrumented translation (eax %u, %u further "
                  "calls of the deleted hook)", reg(UC_X86_REG_EAX), x.calls - calls_before);
}
END_TEST

/* ---- 5. Code hook stop ---------------------------------------------------------------------- */

static const uint8_t three_movs[] = {
    0xB8, 0x01, 0x00, 0x00, 0x00, /* 0x1000 mov eax, 1 */
    0xBB, 0x02, 0x00, 0x00, 0x00, /* 0x1005 mov ebx, 2 */
    0xB9, 0x03, 0x00, 0x00, 0x00, /* 0x100a mov ecx, 3 */
};

/* run_exact stops in its code hook before the (k+1)-th instruction. */
START_TEST(test_code_hook_stop_prevents_the_instruction_from_running)
{
    put(CODE, three_movs, sizeof three_movs);
    events ev = {.stop_at = CODE + 5};
    add_hook(UC_HOOK_CODE, (void *)on_code_stop_once, &ev, 1, 0);
    uc_err e = run(CODE, CODE + sizeof three_movs);
    ck_assert_msg(e == UC_ERR_OK, BROKEN "uc_emu_stop in a code hook made uc_emu_start fail: %s", uc_strerror(e));
    ck_assert_msg(reg(UC_X86_REG_EAX) == 1 && reg(UC_X86_REG_EBX) == 0,
                  BROKEN "the instruction whose code hook called uc_emu_stop ran anyway (eax %u, ebx %u)",
                  reg(UC_X86_REG_EAX), reg(UC_X86_REG_EBX));
    ck_assert_msg(reg(UC_X86_REG_EIP) == CODE + 5,
                  BROKEN "after uc_emu_stop in a code hook EIP is 0x%x, not the instruction 0x1005", reg(UC_X86_REG_EIP));
}
END_TEST

/* A hook that stops must skip its own next call at the same place (the skip-once flag). */
START_TEST(test_restarting_after_a_code_hook_stop_fires_the_hook_again)
{
    put(CODE, three_movs, sizeof three_movs);
    events ev = {.stop_at = CODE + 5};
    add_hook(UC_HOOK_CODE, (void *)on_code_stop_once, &ev, 1, 0);
    run_ok(CODE, CODE + sizeof three_movs);
    run_ok(reg(UC_X86_REG_EIP), CODE + sizeof three_movs);
    ck_assert_msg(ev.n == 4 && ev.addr[1] == CODE + 5 && ev.addr[2] == CODE + 5,
                  BROKEN "the code hook did not fire again for the instruction it stopped at (%u calls)", ev.n);
    ck_assert_uint_eq(reg(UC_X86_REG_EBX), 2);
    ck_assert_uint_eq(reg(UC_X86_REG_ECX), 3);
}
END_TEST

/* ---- 6. hlt --------------------------------------------------------------------------------- */

/* vmiemu reports a halt when uc_emu_start returns with the byte before EIP being hlt. */
START_TEST(test_hlt_at_cpl0_ends_the_run_with_ok_and_eip_after_it)
{
    static const uint8_t code[] = {
        0xB8, 0x07, 0x00, 0x00, 0x00, /* mov eax, 7 */
        0xF4,                         /* hlt */
        0xB8, 0x09, 0x00, 0x00, 0x00, /* mov eax, 9 */
    };
    put(CODE, code, sizeof code);
    uc_err e = run(CODE, CODE + sizeof code);
    ck_assert_msg(e == UC_ERR_OK, BROKEN "hlt ended uc_emu_start with %s", uc_strerror(e));
    ck_assert_msg(reg(UC_X86_REG_EIP) == CODE + 6 && reg(UC_X86_REG_EAX) == 7,
                  BROKEN "hlt did not end the run with EIP after it (eip 0x%x, eax %u)", reg(UC_X86_REG_EIP),
                  reg(UC_X86_REG_EAX));
}
END_TEST

/* vmiemu enables exits and sets none: no address stops a run, so code at 0 runs (uc_emu_start's
 * `until` of 0 stopped a jmp 0 before its target). */
START_TEST(test_exits_enabled_with_none_set_let_code_at_address_zero_run)
{
    static const uint8_t at0[] = {
        0xB8, 0x07, 0x00, 0x00, 0x00, /* mov eax, 7 */
        0xF4,                         /* hlt */
    };
    static const uint8_t code[] = {0xE9, 0x00, 0x00, 0x00, 0x00}; /* jmp 0 (rel32 patched below) */
    put(0, at0, sizeof at0);
    put(CODE, code, sizeof code);
    put32(CODE + 1, 0u - (CODE + 5));
    ck_assert_int_eq(uc_ctl_exits_enable(P.uc), UC_ERR_OK);
    uc_err e = run(CODE, 0);
    ck_assert_msg(e == UC_ERR_OK && reg(UC_X86_REG_EAX) == 7 && reg(UC_X86_REG_EIP) == 6,
                  BROKEN "with exits enabled and none set, code at 0 did not run (%s, eip 0x%x, eax %u)",
                  uc_strerror(e), reg(UC_X86_REG_EIP), reg(UC_X86_REG_EAX));
}
END_TEST

/* ---- 7. RDTSC and CPUID hooks --------------------------------------------------------------- */

static int on_rdtsc(uc_engine *uc, void *user)
{
    unsigned *calls = user;
    (*calls)++;
    uint32_t eax = 0x89ABCDEFu, edx = 0x01234567u;
    uc_reg_write(uc, UC_X86_REG_EAX, &eax);
    uc_reg_write(uc, UC_X86_REG_EDX, &edx);
    return 1;
}

/* Determinism: the guest's TSC is vmiemu's instruction-derived clock, never host time. */
START_TEST(test_rdtsc_hook_returning_1_replaces_the_instruction)
{
    static const uint8_t code[] = {0x0F, 0x31}; /* rdtsc */
    put(CODE, code, sizeof code);
    unsigned calls = 0;
    add_insn_hook((void *)on_rdtsc, &calls, UC_X86_INS_RDTSC);
    run_ok(CODE, CODE + sizeof code);
    ck_assert_msg(calls == 1, BROKEN "the RDTSC instruction hook ran %u times for one rdtsc", calls);
    ck_assert_msg(reg(UC_X86_REG_EAX) == 0x89ABCDEFu && reg(UC_X86_REG_EDX) == 0x01234567u,
                  BROKEN "rdtsc returned edx:eax 0x%08x:%08x, not the hook's value (host time leaked?)",
                  reg(UC_X86_REG_EDX), reg(UC_X86_REG_EAX));
}
END_TEST

static int on_cpuid(uc_engine *uc, void *user)
{
    uint32_t *leaf = user;
    uc_reg_read(uc, UC_X86_REG_EAX, leaf);
    uint32_t v[4] = {0x11111111u, 0x22222222u, 0x33333333u, 0x44444444u};
    uc_reg_write(uc, UC_X86_REG_EAX, &v[0]);
    uc_reg_write(uc, UC_X86_REG_EBX, &v[1]);
    uc_reg_write(uc, UC_X86_REG_ECX, &v[2]);
    uc_reg_write(uc, UC_X86_REG_EDX, &v[3]);
    return 1;
}

/* vmiemu presents its own CPUID leaves, independent of the host and of Unicorn's model. */
START_TEST(test_cpuid_hook_returning_1_replaces_the_instruction)
{
    static const uint8_t code[] = {0xB8, 0x01, 0x00, 0x00, 0x00, /* mov eax, 1 */
                                   0x0F, 0xA2};                  /* cpuid */
    put(CODE, code, sizeof code);
    uint32_t leaf = 0xFFFFFFFFu;
    add_insn_hook((void *)on_cpuid, &leaf, UC_X86_INS_CPUID);
    run_ok(CODE, CODE + sizeof code);
    ck_assert_msg(leaf == 1, BROKEN "the CPUID hook saw eax 0x%x, not the leaf 1", leaf);
    ck_assert_msg(reg(UC_X86_REG_EAX) == 0x11111111u && reg(UC_X86_REG_EBX) == 0x22222222u &&
                      reg(UC_X86_REG_ECX) == 0x33333333u && reg(UC_X86_REG_EDX) == 0x44444444u,
                  BROKEN "cpuid did not return the hook's registers (eax 0x%x ebx 0x%x ecx 0x%x edx 0x%x)",
                  reg(UC_X86_REG_EAX), reg(UC_X86_REG_EBX), reg(UC_X86_REG_ECX), reg(UC_X86_REG_EDX));
}
END_TEST

/* cpu/cpuid_direct.c answers a bound engine's cpuid inside Unicorn's helper, writing the
 * registers into the helper's CPU state: the link must still wrap helper_cpuid_x86_64, and
 * that state must start with EAX, ECX, EDX, EBX as 64-bit words (QEMU's CPUX86State.regs[]). */
typedef struct {
    unsigned calls;
    void *state;
    bool layout_ok, shifted_ok;
} cpuid_state_seen;

static int on_cpuid_state(uc_engine *uc, void *user)
{
    cpuid_state_seen *s = user;
    s->calls++;
    s->state = vcpu_cpuid_helper_state();
    s->layout_ok = vcpu_cpuid_state_layout_ok(uc, s->state);
    s->shifted_ok = s->state && vcpu_cpuid_state_layout_ok(uc, (uint64_t *)s->state + 1);
    return 1; /* registers left as they were */
}

START_TEST(test_cpuid_helper_state_starts_with_eax_ecx_edx_ebx)
{
    static const uint8_t code[] = {0xB8, 0x11, 0x00, 0x00, 0x00, /* mov eax, 0x11 */
                                   0xB9, 0x22, 0x00, 0x00, 0x00, /* mov ecx, 0x22 */
                                   0xBA, 0x33, 0x00, 0x00, 0x00, /* mov edx, 0x33 */
                                   0xBB, 0x44, 0x00, 0x00, 0x00, /* mov ebx, 0x44 */
                                   0x0F, 0xA2};                  /* cpuid */
    put(CODE, code, sizeof code);
    cpuid_state_seen seen = {0};
    add_insn_hook((void *)on_cpuid_state, &seen, UC_X86_INS_CPUID);
    run_ok(CODE, CODE + sizeof code);
    ck_assert_int_eq(seen.calls, 1);
    ck_assert_msg(seen.state != NULL, BROKEN "guest cpuid no longer reaches __wrap_helper_cpuid_x86_64 "
                                            "(link option --wrap=helper_cpuid_x86_64)");
    ck_assert_msg(seen.layout_ok, BROKEN "the cpuid helper's CPU state does not start with EAX, ECX, EDX, EBX");
    ck_assert_msg(!seen.shifted_ok, "the layout check accepts a state one register off");
    ck_assert_ptr_null(vcpu_cpuid_helper_state()); /* only while the helper runs */
    ck_assert_uint_eq(reg(UC_X86_REG_EAX), 0x11); /* the check put the registers back */
    ck_assert_uint_eq(reg(UC_X86_REG_ECX), 0x22);
    ck_assert_uint_eq(reg(UC_X86_REG_EDX), 0x33);
    ck_assert_uint_eq(reg(UC_X86_REG_EBX), 0x44);
}
END_TEST

/* ---- 8. IN / OUT hooks ---------------------------------------------------------------------- */

static uint32_t on_in(uc_engine *uc, uint32_t port, int size, void *user)
{
    (void)uc;
    events *ev = user;
    record(ev, port, (uint32_t)size, 0);
    return size == 1 ? 0xFFFFFF78u : size == 2 ? 0xFFFFBEEFu : 0xDEADBEEFu;
}

/* Port I/O is emulated by vmiemu's devices; events are logged with the EIP of the IN instruction. */
START_TEST(test_in_hook_gets_port_and_size_and_its_value_lands_in_al_ax_eax)
{
    static const uint8_t code[] = {
        0xE4, 0x60, /* 0x1000 in al, 0x60 */
        0x89, 0xC3, /* 0x1002 mov ebx, eax */
        0x66, 0xED, /* 0x1004 in ax, dx */
        0x89, 0xC1, /* 0x1006 mov ecx, eax */
        0xED,       /* 0x1008 in eax, dx */
    };
    put(CODE, code, sizeof code);
    set_reg(UC_X86_REG_EAX, 0xAABBCCDDu);
    set_reg(UC_X86_REG_EDX, 0x1F0);
    events ev = {0};
    add_insn_hook((void *)on_in, &ev, UC_X86_INS_IN);
    run_ok(CODE, CODE + sizeof code);
    ck_assert_msg(ev.n == 3, BROKEN "the IN hook ran %u times for 3 in instructions", ev.n);
    static const uint32_t port[3] = {0x60, 0x1F0, 0x1F0}, size[3] = {1, 2, 4}, eip[3] = {CODE, CODE + 4, CODE + 8};
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_msg(ev.addr[i] == port[i] && ev.size[i] == size[i],
                      BROKEN "IN hook call %u got port 0x%llx size %u, expected 0x%x size %u", i,
                      (unsigned long long)ev.addr[i], ev.size[i], port[i], size[i]);
        ck_assert_msg(ev.eip[i] == eip[i], BROKEN "EIP read in the IN hook is 0x%x, not the in instruction at 0x%x",
                      ev.eip[i], eip[i]);
    }
    ck_assert_msg(reg(UC_X86_REG_EBX) == 0xAABBCC78u, BROKEN "in al gave eax 0x%x (expected only AL replaced)", reg(UC_X86_REG_EBX));
    ck_assert_msg(reg(UC_X86_REG_ECX) == 0xAABBBEEFu, BROKEN "in ax gave eax 0x%x (expected only AX replaced)", reg(UC_X86_REG_ECX));
    ck_assert_msg(reg(UC_X86_REG_EAX) == 0xDEADBEEFu, BROKEN "in eax gave eax 0x%x", reg(UC_X86_REG_EAX));
}
END_TEST

static void on_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *user)
{
    (void)uc;
    record(user, port, (uint32_t)size, value);
}

/* Port I/O is emulated by vmiemu's devices; events are logged with the EIP of the OUT instruction. */
START_TEST(test_out_hook_gets_port_size_and_value)
{
    static const uint8_t code[] = {
        0xB0, 0x5A,                   /* 0x1000 mov al, 0x5a */
        0xE6, 0x80,                   /* 0x1002 out 0x80, al */
        0x66, 0xBA, 0xF8, 0x03,       /* 0x1004 mov dx, 0x3f8 */
        0x66, 0xB8, 0x34, 0x12,       /* 0x1008 mov ax, 0x1234 */
        0x66, 0xEF,                   /* 0x100c out dx, ax */
        0xB8, 0x0D, 0xF0, 0xFE, 0xCA, /* 0x100e mov eax, 0xcafef00d */
        0xEF,                         /* 0x1013 out dx, eax */
    };
    put(CODE, code, sizeof code);
    set_reg(UC_X86_REG_EAX, 0xFFFFFF00u);
    events ev = {0};
    add_insn_hook((void *)on_out, &ev, UC_X86_INS_OUT);
    run_ok(CODE, CODE + sizeof code);
    ck_assert_msg(ev.n == 3, BROKEN "the OUT hook ran %u times for 3 out instructions", ev.n);
    static const uint32_t port[3] = {0x80, 0x3F8, 0x3F8}, size[3] = {1, 2, 4},
                          value[3] = {0x5A, 0x1234, 0xCAFEF00Du}, eip[3] = {CODE + 2, CODE + 0xC, CODE + 0x13};
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_msg(ev.addr[i] == port[i] && ev.size[i] == size[i] && ev.value[i] == value[i],
                      BROKEN "OUT hook call %u got port 0x%llx size %u value 0x%x, expected 0x%x %u 0x%x", i,
                      (unsigned long long)ev.addr[i], ev.size[i], ev.value[i], port[i], size[i], value[i]);
        ck_assert_msg(ev.eip[i] == eip[i], BROKEN "EIP read in the OUT hook is 0x%x, not the out instruction at 0x%x",
                      ev.eip[i], eip[i]);
    }
}
END_TEST

/* The exit port ends the run after its `out` (cpu.c, end_after_this_insn). */
static const uint8_t out_then_store[] = {
    0xE6, 0xF4,                                     /* 0x1000 out 0xf4, al */
    0x43,                                           /* 0x1002 inc ebx */
    0xC7, 0x05, 0x00, 0x20, 0x00, 0x00, 1, 0, 0, 0, /* 0x1003 mov dword [DATA], 1 */
    0xF4,                                           /* 0x100d hlt */
};

typedef struct out_stop {
    bool refuse;   /* refuse every TLB fill from now on */
    bool flush;    /* the OUT hook flushes the TLB and starts refusing */
} out_stop;

static void on_out_stop(uc_engine *uc, uint32_t port, int size, uint32_t value, void *user)
{
    (void)port, (void)size, (void)value;
    out_stop *o = user;
    uc_emu_stop(uc);
    if (o->flush) {
        o->refuse = true;
        ck_assert_int_eq(uc_ctl_flush_tlb(uc), UC_ERR_OK);
    }
}

static bool on_tlb_fill_identity(uc_engine *uc, uint64_t vaddr, uc_mem_type type, uc_tlb_entry *e, void *user)
{
    (void)uc, (void)type;
    out_stop *o = user;
    if (o->refuse)
        return false;
    e->paddr = vaddr;
    e->perms = UC_PROT_ALL;
    return true;
}

/* Why a run-ending port write needs containing: the stop does not cut the block. */
START_TEST(test_stop_requested_in_an_out_hook_still_runs_the_rest_of_the_block)
{
    put(CODE, out_then_store, sizeof out_then_store);
    out_stop o = {0};
    add_insn_hook((void *)on_out_stop, &o, UC_X86_INS_OUT);
    set_reg(UC_X86_REG_EBX, 0);
    run_ok(CODE, 0);
    ck_assert_msg(get32(DATA) == 1 && reg(UC_X86_REG_EBX) == 1,
                  "Unicorn now stops right after an OUT whose hook asks it to: the containment in cpu.c "
                  "(end_after_this_insn) is no longer needed");
}
END_TEST

/* How it is contained: a TLB flush in the OUT hook, and refused fills, stop the block at its next
 * memory access, before the access, with EIP there. */
START_TEST(test_tlb_flush_in_an_out_hook_and_a_refused_fill_stop_the_block_before_its_next_store)
{
    put(CODE, out_then_store, sizeof out_then_store);
    out_stop o = {.flush = true};
    ck_assert_int_eq(uc_ctl_tlb_mode(P.uc, UC_TLB_VIRTUAL), UC_ERR_OK);
    add_hook(UC_HOOK_TLB_FILL, (void *)on_tlb_fill_identity, &o, 1, 0);
    add_insn_hook((void *)on_out_stop, &o, UC_X86_INS_OUT);
    uc_err e = run(CODE, 0);
    ck_assert_msg(e == UC_ERR_EXCEPTION, BROKEN "a refused TLB fill after a stop ended the run with %s", uc_strerror(e));
    ck_assert_msg(get32(DATA) == 0, BROKEN "the store after a contained OUT landed");
    ck_assert_msg(reg(UC_X86_REG_EIP) == CODE + 3, BROKEN "a refused fill left EIP at 0x%x, not the store",
                  reg(UC_X86_REG_EIP));
}
END_TEST

/* ---- 9. Invalid opcodes --------------------------------------------------------------------- */

static const uint8_t ud2_then_mov[] = {
    0x0F, 0x0B,                   /* 0x1000 ud2 */
    0xB8, 0x05, 0x00, 0x00, 0x00, /* 0x1002 mov eax, 5 */
};

static bool on_invalid_skip(uc_engine *uc, void *user)
{
    events *ev = user;
    record(ev, 0, 0, 0);
    uint32_t eip = CODE + 2;
    uc_reg_write(uc, UC_X86_REG_EIP, &eip);
    return true;
}

/* A ROM slot reached through an unrecognised alias traps as #UD and is serviced from this hook. */
START_TEST(test_invalid_instruction_hook_can_move_eip_and_continue)
{
    put(CODE, ud2_then_mov, sizeof ud2_then_mov);
    events ev = {0};
    add_hook(UC_HOOK_INSN_INVALID, (void *)on_invalid_skip, &ev, 1, 0);
    uc_err e = run(CODE, CODE + sizeof ud2_then_mov);
    ck_assert_msg(e == UC_ERR_OK, BROKEN "an invalid-instruction hook returning true still ended the run: %s", uc_strerror(e));
    ck_assert_msg(ev.n == 1, BROKEN "the invalid-instruction hook ran %u times for one ud2", ev.n);
    ck_assert_msg(ev.eip[0] == CODE, BROKEN "EIP in the invalid-instruction hook is 0x%x, not the ud2 at 0x1000", ev.eip[0]);
    ck_assert_msg(reg(UC_X86_REG_EAX) == 5, BROKEN "execution did not continue at the EIP set by the invalid-instruction hook");
}
END_TEST

/* vmiemu's interrupt hook never sees #UD: invalid opcodes come only through UC_HOOK_INSN_INVALID. */
START_TEST(test_invalid_instruction_does_not_reach_the_interrupt_hook)
{
    put(CODE, ud2_then_mov, sizeof ud2_then_mov);
    events inv = {0}, intr = {0};
    add_hook(UC_HOOK_INTR, (void *)on_interrupt, &intr, 1, 0);
    add_hook(UC_HOOK_INSN_INVALID, (void *)on_invalid_skip, &inv, 1, 0);
    run_ok(CODE, CODE + sizeof ud2_then_mov);
    ck_assert_msg(inv.n == 1 && intr.n == 0,
                  BROKEN "ud2 reached the invalid-instruction hook %u times and the interrupt hook %u times (vector %llu)",
                  inv.n, intr.n, (unsigned long long)intr.addr[0]);
}
END_TEST

/* Without a handler, vmiemu turns the run's error into a fault report. */
START_TEST(test_invalid_instruction_without_a_hook_ends_the_run_with_insn_invalid)
{
    put(CODE, ud2_then_mov, sizeof ud2_then_mov);
    uc_err e = run(CODE, CODE + sizeof ud2_then_mov);
    ck_assert_msg(e == UC_ERR_INSN_INVALID, BROKEN "an unhandled ud2 ended the run with \"%s\", not UC_ERR_INSN_INVALID",
                  uc_strerror(e));
    ck_assert_msg(reg(UC_X86_REG_EAX) == 0, BROKEN "execution went on past an unhandled ud2");
}
END_TEST

/* ---- 10. Interrupts and exceptions ---------------------------------------------------------- */

/* Software interrupts (system calls) are logged and delivered with the return EIP after `int n`. */
START_TEST(test_int_0x80_reaches_the_interrupt_hook_with_eip_after_it)
{
    static const uint8_t code[] = {
        0xCD, 0x80,                   /* 0x1000 int 0x80 */
        0xB8, 0x05, 0x00, 0x00, 0x00, /* 0x1002 mov eax, 5 */
    };
    put(CODE, code, sizeof code);
    events ev = {0};
    add_hook(UC_HOOK_INTR, (void *)on_interrupt, &ev, 1, 0);
    run_ok(CODE, CODE + sizeof code);
    ck_assert_msg(ev.n == 1 && ev.addr[0] == 0x80, BROKEN "int 0x80 reached the interrupt hook %u times (vector %llu)",
                  ev.n, (unsigned long long)ev.addr[0]);
    ck_assert_msg(ev.eip[0] == CODE + 2, BROKEN "EIP in the interrupt hook for int 0x80 is 0x%x, not 0x1002 (after it)",
                  ev.eip[0]);
}
END_TEST

static void on_interrupt_stop(uc_engine *uc, uint32_t intno, void *user)
{
    record(user, intno, 0, 0);
    uc_emu_stop(uc);
}

/* Faults are reported (and will be delivered) with EIP at the faulting instruction. */
START_TEST(test_general_protection_fault_reaches_the_interrupt_hook_with_eip_at_the_fault)
{
    static const uint8_t code[] = {
        0x31, 0xC0,                   /* 0x1000 xor eax, eax */
        0x8E, 0xD0,                   /* 0x1002 mov ss, ax: null SS -> #GP(0) */
        0xB8, 0x05, 0x00, 0x00, 0x00, /* 0x1004 mov eax, 5 */
    };
    put(CODE, code, sizeof code);
    events ev = {0};
    add_hook(UC_HOOK_INTR, (void *)on_interrupt_stop, &ev, 1, 0);
    uc_err e = run(CODE, CODE + sizeof code);
    ck_assert_msg(e == UC_ERR_OK, BROKEN "uc_emu_stop in the interrupt hook for a #GP ended the run with %s", uc_strerror(e));
    ck_assert_msg(ev.n == 1 && ev.addr[0] == 13, BROKEN "mov ss, <null> reached the interrupt hook %u times (vector %llu, not 13)",
                  ev.n, (unsigned long long)ev.addr[0]);
    ck_assert_msg(ev.eip[0] == CODE + 2, BROKEN "EIP in the interrupt hook for a #GP is 0x%x, not the faulting 0x1002", ev.eip[0]);
    ck_assert_msg(reg(UC_X86_REG_EIP) == CODE + 2 && reg(UC_X86_REG_EAX) == 0,
                  BROKEN "after stopping in the #GP hook EIP is 0x%x (eax %u), not the faulting 0x1002",
                  reg(UC_X86_REG_EIP), reg(UC_X86_REG_EAX));
}
END_TEST

static void on_interrupt_redirect(uc_engine *uc, uint32_t intno, void *user)
{
    record(user, intno, 0, 0);
    uint32_t handler = CODE + 0x100;
    uc_reg_write(uc, UC_X86_REG_EIP, &handler);
}

/* Exception delivery to a guest handler sets EIP from the interrupt hook and goes on. */
START_TEST(test_interrupt_hook_can_redirect_execution_to_a_handler)
{
    static const uint8_t code[] = {
        0xCD, 0x80,                   /* 0x1000 int 0x80 */
        0xB8, 0x05, 0x00, 0x00, 0x00, /* 0x1002 mov eax, 5 */
    };
    static const uint8_t handler[] = {0xB9, 0x77, 0x00, 0x00, 0x00}; /* 0x1100 mov ecx, 0x77 */
    put(CODE, code, sizeof code);
    put(CODE + 0x100, handler, sizeof handler);
    events ev = {0};
    add_hook(UC_HOOK_INTR, (void *)on_interrupt_redirect, &ev, 1, 0);
    run_ok(CODE, CODE + 0x100 + sizeof handler);
    ck_assert_msg(ev.n == 1 && reg(UC_X86_REG_ECX) == 0x77 && reg(UC_X86_REG_EAX) == 0,
                  BROKEN "EIP set in the interrupt hook was not where execution continued (ecx 0x%x, eax %u)",
                  reg(UC_X86_REG_ECX), reg(UC_X86_REG_EAX));
}
END_TEST

/* ---- 11. Unmapped physical memory ----------------------------------------------------------- */

static bool on_unmapped(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user)
{
    (void)uc;
    (void)value;
    record(user, address, (uint32_t)size, (uint32_t)type);
    return false;
}

/* A guest access outside RAM stops vmiemu with the physical address in the report. */
START_TEST(test_unmapped_read_calls_the_hook_and_ends_with_read_unmapped)
{
    static const uint8_t code[] = {0xA1, 0x00, 0x00, 0x00, 0x10}; /* mov eax, [0x10000000] */
    put(CODE, code, sizeof code);
    events ev = {0};
    add_hook(UC_HOOK_MEM_INVALID, (void *)on_unmapped, &ev, 1, 0);
    uc_err e = run(CODE, CODE + sizeof code);
    ck_assert_msg(e == UC_ERR_READ_UNMAPPED, BROKEN "an unmapped read ended the run with \"%s\"", uc_strerror(e));
    ck_assert_msg(ev.n == 1 && ev.addr[0] == 0x10000000u && ev.value[0] == UC_MEM_READ_UNMAPPED && ev.size[0] == 4,
                  BROKEN "the unmapped-memory hook got %u calls, address 0x%llx, type %u, size %u", ev.n,
                  (unsigned long long)ev.addr[0], ev.value[0], ev.size[0]);
    ck_assert_msg(ev.eip[0] == CODE, BROKEN "EIP read in the unmapped-memory hook is 0x%x, not the faulting 0x1000", ev.eip[0]);
}
END_TEST

/* A guest access outside RAM stops vmiemu with the physical address in the report. */
START_TEST(test_unmapped_write_calls_the_hook_and_ends_with_write_unmapped)
{
    static const uint8_t code[] = {0xC7, 0x05, 0x00, 0x00, 0x00, 0x10, 0x01, 0x00, 0x00, 0x00}; /* mov dword [0x10000000], 1 */
    put(CODE, code, sizeof code);
    events ev = {0};
    add_hook(UC_HOOK_MEM_INVALID, (void *)on_unmapped, &ev, 1, 0);
    uc_err e = run(CODE, CODE + sizeof code);
    ck_assert_msg(e == UC_ERR_WRITE_UNMAPPED, BROKEN "an unmapped write ended the run with \"%s\"", uc_strerror(e));
    ck_assert_msg(ev.n == 1 && ev.addr[0] == 0x10000000u && ev.value[0] == UC_MEM_WRITE_UNMAPPED && ev.size[0] == 4,
                  BROKEN "the unmapped-memory hook got %u calls, address 0x%llx, type %u, size %u", ev.n,
                  (unsigned long long)ev.addr[0], ev.value[0], ev.size[0]);
    ck_assert_msg(ev.eip[0] == CODE, BROKEN "EIP read in the unmapped-memory hook is 0x%x, not the faulting 0x1000", ev.eip[0]);
}
END_TEST

/* ---- 12. Paging ----------------------------------------------------------------------------- */

/* Page tables: linear 0..2 MiB identity, linear 0xC0000000 -> physical 0x100000 and
 * 0xC0001000 -> unmapped physical 0x1F000000. Guest code loads CR3 and sets CR0.PG, as a
 * kernel (or vmiemu's ROM) does, then loads ebx from linear 0xC0000000. */
static void enable_paging(void)
{
    put32(PAGE_DIR + 0 * 4, PT_LOW | 3);
    put32(PAGE_DIR + (HIGH_LINEAR >> 22) * 4, PT_HIGH | 3);
    for (uint32_t i = 0; i < MEM_SIZE / 0x1000; i++)
        put32(PT_LOW + i * 4, i * 0x1000 | 3);
    put32(PT_HIGH + 0 * 4, HIGH_PHYS | 3);
    put32(PT_HIGH + 1 * 4, UNMAPPED_PHYS | 3);
    put32(HIGH_PHYS, 0x600DF00Du);
    static const uint8_t code[] = {
        0xB8, 0x00, 0x00, 0x01, 0x00,       /* mov eax, 0x10000 */
        0x0F, 0x22, 0xD8,                   /* mov cr3, eax */
        0x0F, 0x20, 0xC0,                   /* mov eax, cr0 */
        0x0D, 0x00, 0x00, 0x00, 0x80,       /* or eax, 0x80000000 */
        0x0F, 0x22, 0xC0,                   /* mov cr0, eax */
        0x8B, 0x1D, 0x00, 0x00, 0x00, 0xC0, /* mov ebx, [0xC0000000] */
    };
    put(CODE, code, sizeof code);
    uc_err e = run(CODE, CODE + sizeof code);
    ck_assert_msg(e == UC_ERR_OK,
                  BROKEN "a load from linear 0xC0000000 mapped to physical 0x100000 failed: %s "
                  "(the page tables' physical address was ignored, as in Debian's Unicorn 2.0.1?)", uc_strerror(e));
    ck_assert_msg(reg(UC_X86_REG_CR0) & 0x80000000u, BROKEN "guest mov cr0 did not enable paging");
}

/* Every higher-half kernel (Linux included) maps linear addresses to different physical ones. */
START_TEST(test_guest_load_through_page_tables_reads_the_mapped_physical_address)
{
    enable_paging();
    ck_assert_msg(reg(UC_X86_REG_EBX) == 0x600DF00Du,
                  BROKEN "a load from linear 0xC0000000 read 0x%x, not the word at physical 0x100000", reg(UC_X86_REG_EBX));
}
END_TEST

/* The debugger and the VMI calls translate guest linear addresses with uc_vmem_translate. */
START_TEST(test_vmem_translate_walks_the_guest_page_tables)
{
    enable_paging();
    uint64_t pa = 0;
    uc_err e = uc_vmem_translate(P.uc, HIGH_LINEAR + 0x123, UC_PROT_READ, &pa);
    ck_assert_msg(e == UC_ERR_OK && pa == HIGH_PHYS + 0x123,
                  BROKEN "uc_vmem_translate(0xC0000123) gave %s, 0x%llx (expected 0x100123)", uc_strerror(e),
                  (unsigned long long)pa);
}
END_TEST

/* vmiemu reads guest code and data by linear address with uc_vmem_read. */
START_TEST(test_vmem_read_reads_through_the_guest_page_tables)
{
    enable_paging();
    uint32_t v = 0;
    uc_err e = uc_vmem_read(P.uc, HIGH_LINEAR, UC_PROT_READ, &v, sizeof v);
    ck_assert_msg(e == UC_ERR_OK && v == 0x600DF00Du, BROKEN "uc_vmem_read(0xC0000000) gave %s, 0x%x", uc_strerror(e), v);
}
END_TEST

/* uc_mem_read/uc_mem_write and the memory hooks' addresses are physical in vmiemu's model. */
START_TEST(test_mem_read_takes_physical_addresses_while_paging_is_on)
{
    enable_paging();
    uint32_t v = 0;
    uc_err e = uc_mem_read(P.uc, HIGH_PHYS, &v, sizeof v);
    ck_assert_msg(e == UC_ERR_OK && v == 0x600DF00Du, BROKEN "uc_mem_read(0x100000) with paging on gave %s, 0x%x",
                  uc_strerror(e), v);
    e = uc_mem_read(P.uc, HIGH_LINEAR, &v, sizeof v);
    ck_assert_msg(e != UC_ERR_OK, BROKEN "uc_mem_read(0xC0000000) succeeded with paging on: it translated a linear address");
}
END_TEST

/* vmiemu's fault report for a bad access names the physical address. */
START_TEST(test_unmapped_access_hook_reports_the_physical_address_under_paging)
{
    enable_paging();
    static const uint8_t code[] = {0x8B, 0x0D, 0x00, 0x10, 0x00, 0xC0}; /* mov ecx, [0xC0001000] */
    put(CODE + 0x100, code, sizeof code);
    events ev = {0};
    add_hook(UC_HOOK_MEM_INVALID, (void *)on_unmapped, &ev, 1, 0);
    uc_err e = run(CODE + 0x100, CODE + 0x100 + sizeof code);
    ck_assert_msg(e == UC_ERR_READ_UNMAPPED, BROKEN "a read of unmapped physical memory through paging ended with \"%s\"",
                  uc_strerror(e));
    ck_assert_msg(ev.n == 1 && ev.addr[0] == UNMAPPED_PHYS,
                  BROKEN "the unmapped-memory hook got address 0x%llx (%u calls), not the physical 0x1F000000",
                  (unsigned long long)ev.addr[0], ev.n);
}
END_TEST

/* ---- 13. Host selector writes ----------------------------------------------------------------- */

/* vmiemu's reset loads the boot GDT's selectors from the host (vcpu_reset). */
START_TEST(test_host_selector_writes_load_descriptors_from_the_gdt)
{
    static const uint64_t gdt[4] = {
        0,
        0x00CF9B000000FFFFull, /* 0x08 flat code */
        0x00CF93000000FFFFull, /* 0x10 flat data */
        0x00CF93005000FFFFull, /* 0x18 data, base 0x5000 */
    };
    put(GDT, gdt, sizeof gdt);
    put32(0x5000, 0x77665544u);
    uc_x86_mmr gdtr = {.base = GDT, .limit = sizeof gdt - 1};
    ck_assert_int_eq(uc_reg_write(P.uc, UC_X86_REG_GDTR, &gdtr), UC_ERR_OK);
    set_sel(UC_X86_REG_SS, 0x10);
    set_sel(UC_X86_REG_DS, 0x18);
    set_sel(UC_X86_REG_CS, 0x08);
    ck_assert_msg(sel(UC_X86_REG_SS) == 0x10 && sel(UC_X86_REG_DS) == 0x18 && sel(UC_X86_REG_CS) == 0x08,
                  BROKEN "selectors read back as ss 0x%x ds 0x%x cs 0x%x", sel(UC_X86_REG_SS), sel(UC_X86_REG_DS),
                  sel(UC_X86_REG_CS));
    static const uint8_t code[] = {0xA1, 0x00, 0x00, 0x00, 0x00}; /* mov eax, [0] */
    put(CODE, code, sizeof code);
    run_ok(CODE, CODE + sizeof code);
    ck_assert_msg(reg(UC_X86_REG_EAX) == 0x77665544u,
                  BROKEN "after a host write of DS=0x18 (base 0x5000), mov eax, [0] read 0x%x: the descriptor was not loaded",
                  reg(UC_X86_REG_EAX));
}
END_TEST

/* ---- 14. CPU model ---------------------------------------------------------------------------- */

/* vmiemu presents a Core Duo (32-bit, SSE3, PAE, no long mode) and selects it right after uc_open.
 * (Read back through the native CPUID: uc_ctl_get_cpu_model's UC_CTL_READ macro shifts 2 << 30 in
 * an int, which UBSan rejects.) */
START_TEST(test_cpu_model_coreduo_can_be_selected_right_after_open)
{
    uc_err e = uc_open(UC_ARCH_X86, UC_MODE_32, &P.uc);
    ck_assert_int_eq(e, UC_ERR_OK);
    e = uc_ctl_set_cpu_model(P.uc, UC_CPU_X86_COREDUO);
    ck_assert_msg(e == UC_ERR_OK, BROKEN "uc_ctl_set_cpu_model(UC_CPU_X86_COREDUO) after uc_open failed: %s", uc_strerror(e));
    map_buffer(&P);
    static const uint8_t code[] = {
        0xB8, 0x01, 0x00, 0x00, 0x00, /* mov eax, 1 */
        0x0F, 0xA2,                   /* cpuid */
        0x89, 0xC6,                   /* mov esi, eax */
        0x89, 0xD7,                   /* mov edi, edx */
        0xB8, 0x01, 0x00, 0x00, 0x80, /* mov eax, 0x80000001 */
        0x0F, 0xA2,                   /* cpuid */
    };
    put(CODE, code, sizeof code);
    run_ok(CODE, CODE + sizeof code);
    uint32_t sig = reg(UC_X86_REG_ESI), features = reg(UC_X86_REG_EDI), ext = reg(UC_X86_REG_EDX);
    ck_assert_msg((sig & 0xFF0u) == 0x6E0u, BROKEN "the Core Duo model reports CPUID signature 0x%x, not family 6 model 14", sig);
    ck_assert_msg(features & (1u << 26), BROKEN "the Core Duo model does not report SSE2 (CPUID.1:EDX 0x%x)", features);
    ck_assert_msg(!(ext & (1u << 29)), BROKEN "the Core Duo model reports long mode (CPUID.80000001:EDX 0x%x)", ext);
}
END_TEST

/* Unlike Unicorn's default model (CR4 = 0x50200), the Core Duo model starts with CR4 = 0: SSE
 * raises #UD, as on hardware, until the guest sets CR4.OSFXSR (Linux does so itself). */
START_TEST(test_sse2_is_invalid_on_the_coreduo_model_until_cr4_osfxsr_is_set)
{
    ck_assert_int_eq(uc_open(UC_ARCH_X86, UC_MODE_32, &P.uc), UC_ERR_OK);
    ck_assert_int_eq(uc_ctl_set_cpu_model(P.uc, UC_CPU_X86_COREDUO), UC_ERR_OK);
    map_buffer(&P);
    static const uint8_t code[] = {0x66, 0x0F, 0xD4, 0xC1}; /* paddq xmm0, xmm1 */
    put(CODE, code, sizeof code);
    ck_assert_msg(reg(UC_X86_REG_CR4) == 0, "Unicorn changed: the Core Duo model now starts with CR4 = 0x%x", reg(UC_X86_REG_CR4));
    uc_err e = run(CODE, CODE + sizeof code);
    ck_assert_msg(e == UC_ERR_INSN_INVALID,
                  "Unicorn changed: SSE2 with CR4.OSFXSR clear ended with \"%s\" instead of #UD", uc_strerror(e));
}
END_TEST

/* Guest kernels and programs use SSE2 once CR4.OSFXSR is set; it must run without #UD. */
START_TEST(test_sse2_runs_on_the_coreduo_model)
{
    ck_assert_int_eq(uc_open(UC_ARCH_X86, UC_MODE_32, &P.uc), UC_ERR_OK);
    ck_assert_int_eq(uc_ctl_set_cpu_model(P.uc, UC_CPU_X86_COREDUO), UC_ERR_OK);
    map_buffer(&P);
    static const uint8_t code[] = {
        0x0F, 0x20, 0xE0,                               /* mov eax, cr4 */
        0x0D, 0x00, 0x02, 0x00, 0x00,                   /* or eax, 0x200 (OSFXSR) */
        0x0F, 0x22, 0xE0,                               /* mov cr4, eax */
        0xF3, 0x0F, 0x6F, 0x05, 0x00, 0x20, 0x00, 0x00, /* movdqu xmm0, [0x2000] */
        0xF3, 0x0F, 0x6F, 0x0D, 0x10, 0x20, 0x00, 0x00, /* movdqu xmm1, [0x2010] */
        0x66, 0x0F, 0xD4, 0xC1,                         /* paddq xmm0, xmm1 */
        0xF3, 0x0F, 0x7F, 0x05, 0x20, 0x20, 0x00, 0x00, /* movdqu [0x2020], xmm0 */
    };
    put(CODE, code, sizeof code);
    const uint64_t a[2] = {0xFFFFFFFFull, 5}, b[2] = {1, 7};
    put(DATA, a, sizeof a);
    put(DATA + 0x10, b, sizeof b);
    events inv = {0}, intr = {0};
    add_hook(UC_HOOK_INSN_INVALID, (void *)on_invalid_count, &inv, 1, 0);
    add_hook(UC_HOOK_INTR, (void *)on_interrupt_stop, &intr, 1, 0);
    uc_err e = run(CODE, CODE + sizeof code);
    ck_assert_msg(e == UC_ERR_OK && inv.n == 0 && intr.n == 0,
                  BROKEN "SSE2 on the Core Duo model failed: %s, %u #UD, %u exceptions (vector %llu at 0x%x)",
                  uc_strerror(e), inv.n, intr.n, (unsigned long long)intr.addr[0], intr.eip[0]);
    uint64_t sum[2];
    memcpy(sum, P.mem + DATA + 0x20, sizeof sum);
    ck_assert_msg(sum[0] == 0x100000000ull && sum[1] == 12, BROKEN "paddq gave 0x%llx, 0x%llx",
                  (unsigned long long)sum[0], (unsigned long long)sum[1]);
}
END_TEST

/* vmiemu maps the open bus and the local APIC page above RAM with uc_mmio_map. */
static uint64_t on_mmio_read(uc_engine *uc, uint64_t offset, unsigned size, void *user)
{
    (void)uc;
    (void)size;
    *(uint64_t *)user = offset;
    return 0xA5A5A5A5u;
}

static void on_mmio_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *user)
{
    (void)uc;
    (void)size;
    ((uint64_t *)user)[1] = offset;
    ((uint64_t *)user)[2] = value;
}

START_TEST(test_mmio_map_routes_guest_reads_and_writes_to_callbacks)
{
    uint64_t seen[3] = {0};
    ck_assert_int_eq(uc_mmio_map(P.uc, 0x40000000, 0x1000, on_mmio_read, seen, on_mmio_write, seen), UC_ERR_OK);
    /* mov eax, [0x40000010]; mov [0x40000020], eax; hlt */
    const uint8_t code[] = {0xA1, 0x10, 0x00, 0x00, 0x40, 0xA3, 0x20, 0x00, 0x00, 0x40, 0xF4};
    put(0x1000, code, sizeof code);
    run_ok(0x1000, 0);
    ck_assert_msg(reg(UC_X86_REG_EAX) == 0xA5A5A5A5u, BROKEN "an MMIO read did not return the callback's value");
    ck_assert_uint_eq(seen[0], 0x10);
    ck_assert_uint_eq(seen[1], 0x20);
    ck_assert_uint_eq(seen[2], 0xA5A5A5A5u);
}
END_TEST

/* ---- Stop checks after memory accesses (cpu/exitcheck.c) -------------------------------- */

static void on_read_stop(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user)
{
    (void)type;
    (void)address;
    (void)size;
    (void)value;
    (*(int *)user)++;
    uc_emu_stop(uc);
}

/* mov eax, [DATA]; inc ebx; inc ebx; hlt. A stop asked for during the load: with the checks
 * (the default) the block is left right after it, the incs do not run; with the byte vmiemu
 * takes for no_exit_request set before translation, the block runs to its end. */
static uint32_t incs_after_a_stop_in_a_load(bool set_flag)
{
    const uint8_t code[] = {0xA1, DATA & 0xFF, DATA >> 8, 0x00, 0x00, 0x43, 0x43, 0xF4};
    put(CODE, code, sizeof code);
    int stops = 0;
    add_hook(UC_HOOK_MEM_READ, (void *)on_read_stop, &stops, DATA, DATA + 3);
    if (set_flag) {
        long off = vcpu_exit_check_offset();
        uint8_t *flag = (uint8_t *)P.uc + off;
        ck_assert_msg(*flag == 0, BROKEN "the byte taken for no_exit_request is %u in a new engine", *flag);
        *flag = 1;
    }
    set_reg(UC_X86_REG_EBX, 0);
    uc_err e = run(CODE, 0);
    ck_assert_msg(e == UC_ERR_OK, "probe code failed: %s", uc_strerror(e));
    ck_assert_int_eq(stops, 1);
    return reg(UC_X86_REG_EBX);
}

START_TEST(test_a_stop_in_a_memory_hook_leaves_the_block_right_after_the_access)
{
    ck_assert_msg(incs_after_a_stop_in_a_load(false) == 0,
                  BROKEN "a stop asked for during a load let the rest of the block run");
}
END_TEST

START_TEST(test_no_exit_request_found_in_the_code_turns_the_access_check_off)
{
#if defined(__x86_64__)
    ck_assert_msg(vcpu_exit_check_offset() >= 0,
                  BROKEN "check_exit_request_x86_64 does not start by testing uc->no_exit_request");
    ck_assert_msg(incs_after_a_stop_in_a_load(true) == 2,
                  BROKEN "with no_exit_request set, a stop during a load still left the block early");
#else
    ck_assert_int_eq(vcpu_exit_check_offset(), -1);
#endif
}
END_TEST

/* ---- Counts kept in translations (cpu/blockpatch.c) -------------------------------------- */

typedef struct patch_probe {
    blockpatch bp;
    unsigned calls, patched, tagged; /* hook calls, rewrites done, calls that brought a value */
    uint64_t last_value;
    bool skipped;       /* the stop check after the hook call is jumped over */
    unsigned stop_at;   /* stop at this call (1-based), through the check made by the hook */
} patch_probe;

static patch_probe PP;

/* Keeps 5 in the loop block's translation at its first call; counts the calls that bring it
 * back. */
static void on_block_patch(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
    (void)uc;
    uintptr_t u = (uintptr_t)user;
    PP.calls++;
    if (u >> BLOCKPATCH_SHIFT) {
        PP.tagged++;
        PP.last_value = u >> BLOCKPATCH_SHIFT;
        ck_assert_ptr_eq((void *)(u & BLOCKPATCH_PTR_MASK), &PP); /* the pointer itself is kept */
        if (PP.calls == PP.stop_at) {
            uc_emu_stop(uc);
            helper_check_exit_request_x86_64(uc, 0); /* the translation's own check is skipped */
        }
        return;
    }
    const void *ret = __builtin_return_address(0);
    if (address == CODE && blockpatch_set(&PP.bp, ret, (const void *)on_block_patch, user, (uint32_t)address, size, 5)) {
        PP.patched++;
        PP.skipped = blockpatch_skip_check(&PP.bp, ret, uc, (const void *)helper_check_exit_request_x86_64);
    }
}

/* inc eax; cmp eax, 4; jne CODE; hlt: one block run four times. */
START_TEST(test_a_lone_block_hook_is_called_with_its_user_data_in_a_rewritable_movabs)
{
    const uint8_t code[] = {0x40, 0x83, 0xF8, 0x04, 0x75, 0xFA, 0xF4};
    put(CODE, code, sizeof code);
    memset(&PP, 0, sizeof PP);
    blockpatch_open(&PP.bp, &PP);
    add_hook(UC_HOOK_BLOCK, (void *)on_block_patch, &PP, 1, 0);
    set_reg(UC_X86_REG_EAX, 0);
    uc_err e = run(CODE, 0);
    ck_assert_msg(e == UC_ERR_OK, "probe code failed: %s", uc_strerror(e));
    ck_assert_uint_eq(reg(UC_X86_REG_EAX), 4);
#if defined(__x86_64__)
    ck_assert_msg(PP.bp.on, "blockpatch_open refused Unicorn 2.1.4 on x86-64");
    ck_assert_msg(PP.patched == 1, BROKEN "the call of a lone block hook is not the sequence blockpatch.c "
                                          "rewrites (mov pc, mov size, movabs user, call *pool)");
    ck_assert_msg(PP.tagged == 3 && PP.last_value == 5,
                  BROKEN "after the rewrite the hook got the value %u times of 3 (last %llu)", PP.tagged,
                  (unsigned long long)PP.last_value);
    ck_assert_msg(PP.skipped, BROKEN "the block hook's call is not followed by the stop check blockpatch.c skips "
                                     "(movabs uc, xor esi, call *pool)");
#else
    ck_assert_uint_eq(PP.patched, 0);
#endif
    ck_assert_uint_eq(PP.calls, 5); /* the loop block 4 times, the hlt block once */
}
END_TEST

/* In a translation whose stop check is skipped, the hook's own call of the check stops the run
 * before the block, as the skipped one did. */
START_TEST(test_a_stop_checked_by_the_hook_itself_prevents_the_block_from_running)
{
#if defined(__x86_64__)
    const uint8_t code[] = {0x40, 0x83, 0xF8, 0x04, 0x75, 0xFA, 0xF4};
    put(CODE, code, sizeof code);
    memset(&PP, 0, sizeof PP);
    PP.stop_at = 3;
    blockpatch_open(&PP.bp, &PP);
    add_hook(UC_HOOK_BLOCK, (void *)on_block_patch, &PP, 1, 0);
    set_reg(UC_X86_REG_EAX, 0);
    uc_err e = run(CODE, 0);
    ck_assert_msg(e == UC_ERR_OK, "probe code failed: %s", uc_strerror(e));
    ck_assert(PP.skipped);
    ck_assert_msg(reg(UC_X86_REG_EAX) == 2 && reg(UC_X86_REG_EIP) == CODE,
                  BROKEN "a stop checked from the hook let the block run (eax %u, eip 0x%x)", reg(UC_X86_REG_EAX),
                  reg(UC_X86_REG_EIP));
#endif
}
END_TEST

/* A rewrite is refused where the code is not the hook's call: nothing is written. */
START_TEST(test_blockpatch_refuses_code_that_is_not_the_hooks_call)
{
    blockpatch bp;
    blockpatch_open(&bp, &PP);
    static const uint8_t not_code[64] = {0};
    ck_assert(!blockpatch_set(&bp, not_code + 40, (const void *)on_block_patch, &PP, 0x1000, 7, 5));
    uint8_t heap_like[64];
    memset(heap_like, 0x90, sizeof heap_like);
    ck_assert(!blockpatch_set(&bp, heap_like + 40, (const void *)on_block_patch, &PP, 0x1000, 7, 5));
    for (size_t i = 0; i < sizeof heap_like; i++)
        ck_assert_uint_eq(heap_like[i], 0x90);
}
END_TEST

/* The count inline (blockpatch.c): the hook's fast path written into the translation. */
typedef struct inline_probe {
    uint64_t icount, limit, blk_icount; /* the fields the inline code works on, as in cpu.c */
    uint32_t blk_pc, blk_size;
    unsigned hook_calls, slow_calls;
    uint32_t slow_pc, slow_size;
    bool queued;
} inline_probe;

static inline_probe IP;
static blockpatch IBP;

static void on_block_inline_probe(uc_engine *uc, uint64_t address, uint32_t size, void *user);

static void on_inline_slow(const uint8_t *ret)
{
    IP.slow_calls++;
    ck_assert_ptr_eq(blockpatch_inline_site(ret, &IP.slow_pc, &IP.slow_size), &IP.icount);
    uc_emu_stop(P.uc);
    helper_check_exit_request_x86_64(P.uc, 0);
}

/* Keeps the loop block's count (3) at its first call, queues the site for inlining and stops
 * before the block runs; otherwise counts as cpu.c's hook does. */
static void on_block_inline_probe(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
    IP.hook_calls++;
    uint64_t n = (uintptr_t)user >> BLOCKPATCH_SHIFT ? (uintptr_t)user >> BLOCKPATCH_SHIFT : address == CODE ? 3 : 1;
    const void *ret = __builtin_return_address(0);
    if (address == CODE && !IP.queued) {
        ck_assert(blockpatch_note(&IBP, ret, CODE >> 12));
        if (blockpatch_set(&IBP, ret, (const void *)on_block_inline_probe, user, (uint32_t)address, size, 3) &&
            blockpatch_skip_check(&IBP, ret, uc, (const void *)helper_check_exit_request_x86_64)) {
            blockpatch_inline how = {&IP.icount, offsetof(inline_probe, limit), offsetof(inline_probe, blk_icount),
                                     offsetof(inline_probe, blk_pc), on_inline_slow,
                                     (const void *)on_block_inline_probe,
                                     (const void *)helper_check_exit_request_x86_64};
            if (blockpatch_inline_setup(&IBP, &how))
                blockpatch_queue_inline(&IBP, ret);
        }
        IP.queued = true;
        uc_emu_stop(uc);
        helper_check_exit_request_x86_64(uc, 0);
        return;
    }
    IP.blk_icount = IP.icount;
    IP.blk_pc = (uint32_t)address;
    IP.blk_size = size;
    IP.icount += n;
}

/* inc eax; cmp eax, 100; jne CODE; hlt */
START_TEST(test_a_kept_count_inlined_counts_without_the_hook_and_calls_its_slow_path_past_the_limit)
{
#if defined(__x86_64__)
    const uint8_t code[] = {0x40, 0x83, 0xF8, 0x64, 0x75, 0xFA, 0xF4};
    put(CODE, code, sizeof code);
    memset(&IP, 0, sizeof IP);
    IP.limit = UINT64_MAX;
    blockpatch_open(&IBP, &IP);
    add_hook(UC_HOOK_BLOCK, (void *)on_block_inline_probe, &IP, 1, 0);
    set_reg(UC_X86_REG_EAX, 0);
    run_ok(CODE, 0);
    ck_assert_msg(reg(UC_X86_REG_EAX) == 0 && reg(UC_X86_REG_EIP) == CODE, "the first stop let the block run");
    ck_assert_msg(IBP.inline_on && IBP.nqueue == 1, BROKEN "the site was not queued for inlining");
    blockpatch_inline_queued(&IBP);
    ck_assert_msg(IBP.inlined == 1, BROKEN "the queued site was not inlined");

    /* Counted inline: the hook runs only for the hlt block. */
    run_ok(CODE, 0);
    ck_assert_uint_eq(reg(UC_X86_REG_EAX), 100);
    ck_assert_uint_eq(IP.hook_calls, 2);
    ck_assert_uint_eq(IP.icount, 300 + 1);
    ck_assert_uint_eq(IP.blk_icount, 300);
    ck_assert_uint_eq(IP.slow_calls, 0);

    /* Past the limit: the slow path, whose stop keeps the block from running. */
    IP.icount = 0;
    IP.limit = 31;
    set_reg(UC_X86_REG_EAX, 0);
    run_ok(CODE, 0);
    ck_assert_uint_eq(IP.slow_calls, 1);
    ck_assert_uint_eq(IP.slow_pc, CODE);
    ck_assert_uint_eq(IP.slow_size, 6);
    ck_assert_msg(reg(UC_X86_REG_EAX) == 10 && reg(UC_X86_REG_EIP) == CODE,
                  "the slow path's stop let the block run (eax %u, eip 0x%x)", reg(UC_X86_REG_EAX),
                  reg(UC_X86_REG_EIP));
    ck_assert_uint_eq(IP.icount, 30);
    ck_assert_uint_eq(IP.blk_icount, 27);
    ck_assert_uint_eq(IP.blk_pc, CODE);
    ck_assert_uint_eq(IP.blk_size, 6);

    /* Undone: Unicorn's code back, the hook called for every block again. */
    blockpatch_undo_page(&IBP, CODE >> 12, (const void *)on_block_inline_probe, &IP, P.uc);
    IP.icount = 0;
    IP.limit = UINT64_MAX;
    IP.hook_calls = 0;
    set_reg(UC_X86_REG_EAX, 0);
    run_ok(CODE, 0);
    ck_assert_uint_eq(reg(UC_X86_REG_EAX), 100);
    ck_assert_uint_eq(IP.hook_calls, 101);
    ck_assert_uint_eq(IP.icount, 301);
    blockpatch_free(&IBP);
#endif
}
END_TEST

/* Why a guest write to the ROM ends the run: a write-protection hook cannot veto the write. */
static bool on_write_prot_allow(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value,
                                void *user)
{
    (void)uc;
    (void)type;
    (void)address;
    (void)size;
    (void)value;
    (*(int *)user)++;
    return true;
}

START_TEST(test_write_protection_hook_returning_true_lets_the_write_through)
{
    /* As vmiemu maps its ROM: a host buffer of its own, read and execute only. */
    static uint8_t rom[0x1000];
    memset(rom, 0, sizeof rom);
    ck_assert_int_eq(uc_mem_map_ptr(P.uc, 0x400000, sizeof rom, UC_PROT_READ | UC_PROT_EXEC, rom), UC_ERR_OK);
    int hits = 0;
    add_hook(UC_HOOK_MEM_WRITE_PROT, (void *)on_write_prot_allow, &hits, 1, 0);
    const uint8_t code[] = {0xC6, 0x05, 0x10, 0x00, 0x40, 0x00, 0x5A, 0xF4}; /* mov byte [0x400010], 0x5a; hlt */
    put(0x1000, code, sizeof code);
    run_ok(0x1000, 0);
    ck_assert_int_eq(hits, 1);
    ck_assert_msg(rom[0x10] == 0x5A, BROKEN "a write-protection hook returning true now vetoes the write; "
                                     "vmiemu could then ignore ROM writes instead of stopping the guest");
}
END_TEST

static Suite *probes_suite(void)
{
    Suite *s = suite_create("unicorn_probes");
    TCase *tc = tcase_create("probes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_mapped_buffer_is_shared_between_host_and_guest);
    tcase_add_test(tc, test_block_hook_receives_the_block_start_and_byte_size);
    tcase_add_test(tc, test_a_lone_block_hook_is_called_with_its_user_data_in_a_rewritable_movabs);
    tcase_add_test(tc, test_blockpatch_refuses_code_that_is_not_the_hooks_call);
    tcase_add_test(tc, test_a_stop_checked_by_the_hook_itself_prevents_the_block_from_running);
    tcase_add_test(tc, test_a_kept_count_inlined_counts_without_the_hook_and_calls_its_slow_path_past_the_limit);
    tcase_add_test(tc, test_block_hook_stop_prevents_the_block_from_running);
    tcase_add_test(tc, test_restarting_at_a_block_stopped_in_its_hook_runs_it_and_fires_the_hook_again);
    tcase_add_test(tc, test_block_hook_can_redirect_execution_without_running_the_block);
    tcase_add_test(tc, test_count_is_ignored_by_blocks_translated_without_counting);
    tcase_add_test(tc, test_code_hook_added_after_translation_does_not_fire_in_cached_blocks);
    tcase_add_test(tc, test_removing_the_cache_and_a_bounded_code_hook_stop_after_exactly_k_instructions);
    tcase_add_test(tc, test_deleting_the_bounded_code_hook_restores_the_uninstrumented_block);
    tcase_add_test(tc, test_code_hook_stop_prevents_the_instruction_from_running);
    tcase_add_test(tc, test_restarting_after_a_code_hook_stop_fires_the_hook_again);
    tcase_add_test(tc, test_hlt_at_cpl0_ends_the_run_with_ok_and_eip_after_it);
    tcase_add_test(tc, test_exits_enabled_with_none_set_let_code_at_address_zero_run);
    tcase_add_test(tc, test_rdtsc_hook_returning_1_replaces_the_instruction);
    tcase_add_test(tc, test_cpuid_hook_returning_1_replaces_the_instruction);
    tcase_add_test(tc, test_cpuid_helper_state_starts_with_eax_ecx_edx_ebx);
    tcase_add_test(tc, test_in_hook_gets_port_and_size_and_its_value_lands_in_al_ax_eax);
    tcase_add_test(tc, test_out_hook_gets_port_size_and_value);
    tcase_add_test(tc, test_stop_requested_in_an_out_hook_still_runs_the_rest_of_the_block);
    tcase_add_test(tc, test_tlb_flush_in_an_out_hook_and_a_refused_fill_stop_the_block_before_its_next_store);
    tcase_add_test(tc, test_invalid_instruction_hook_can_move_eip_and_continue);
    tcase_add_test(tc, test_invalid_instruction_does_not_reach_the_interrupt_hook);
    tcase_add_test(tc, test_invalid_instruction_without_a_hook_ends_the_run_with_insn_invalid);
    tcase_add_test(tc, test_int_0x80_reaches_the_interrupt_hook_with_eip_after_it);
    tcase_add_test(tc, test_general_protection_fault_reaches_the_interrupt_hook_with_eip_at_the_fault);
    tcase_add_test(tc, test_interrupt_hook_can_redirect_execution_to_a_handler);
    tcase_add_test(tc, test_unmapped_read_calls_the_hook_and_ends_with_read_unmapped);
    tcase_add_test(tc, test_unmapped_write_calls_the_hook_and_ends_with_write_unmapped);
    tcase_add_test(tc, test_guest_load_through_page_tables_reads_the_mapped_physical_address);
    tcase_add_test(tc, test_vmem_translate_walks_the_guest_page_tables);
    tcase_add_test(tc, test_vmem_read_reads_through_the_guest_page_tables);
    tcase_add_test(tc, test_mem_read_takes_physical_addresses_while_paging_is_on);
    tcase_add_test(tc, test_unmapped_access_hook_reports_the_physical_address_under_paging);
    tcase_add_test(tc, test_host_selector_writes_load_descriptors_from_the_gdt);
    tcase_add_test(tc, test_mmio_map_routes_guest_reads_and_writes_to_callbacks);
    tcase_add_test(tc, test_write_protection_hook_returning_true_lets_the_write_through);
    tcase_add_test(tc, test_a_stop_in_a_memory_hook_leaves_the_block_right_after_the_access);
    tcase_add_test(tc, test_no_exit_request_found_in_the_code_turns_the_access_check_off);
    suite_add_tcase(s, tc);

    /* These open their own engine: the model must be chosen before anything else touches it. */
    TCase *model = tcase_create("cpu_model");
    tcase_add_checked_fixture(model, NULL, teardown);
    tcase_set_timeout(model, 30);
    tcase_add_test(model, test_cpu_model_coreduo_can_be_selected_right_after_open);
    tcase_add_test(model, test_sse2_is_invalid_on_the_coreduo_model_until_cr4_osfxsr_is_set);
    tcase_add_test(model, test_sse2_runs_on_the_coreduo_model);
    suite_add_tcase(s, model);
    return s;
}

SUITE_MAIN(probes_suite)
