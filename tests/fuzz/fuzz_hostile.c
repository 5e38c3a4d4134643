/* A hostile guest: random bytes run as ring-0 code, with VMI calls of random numbers and
 * arguments among them, for at most BOUND instructions. The emulator must end the run in one
 * of its documented ways (a halt, the bound, a triple fault, a guest error) and never crash.
 *
 * The input is a list of pieces, turned into code at 0x200000 (where tests/guest/ snippets
 * run, entered with hello's flat ring-0 segments, paging off, after its first 1000
 * instructions):
 *   tag < 0x80: the next (tag & 0x3F) + 1 input bytes, copied as they are;
 *   tag >= 0x80: a VMI call: call number (one byte: the ROM's slots go up to 73, higher ones
 *     are whatever the ROM page holds), then EAX, EDX, ECX and two stack arguments (u32 each):
 *       mov eax/edx/ecx, imm32; push imm32; push imm32; call ROM slot; add esp, 8
 * and a final hlt. Snapshots every 1000 instructions run too, so the dirty-page tracking and
 * the state stream see the same hostile state. */
#include <stdlib.h>
#include <string.h>

#include "emu/loader.h"
#include "emu/snapshot.h"
#include "fuzzutil.h"
#include "rom/rom.h"

#define CODE_BASE 0x00200000u
#define CODE_MAX 0x10000u
#define START 1000u
#define BOUND 5000u /* instructions: room for dozens of VMI calls, and short inputs run often */

static size_t put8(uint8_t *code, size_t at, uint8_t v)
{
    code[at] = v;
    return at + 1;
}

static size_t put32(uint8_t *code, size_t at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        code[at + (size_t)i] = (uint8_t)(v >> 8 * i);
    return at + 4;
}

/* Translate the input into guest code; returns its length. */
static size_t build(fz_cursor *c, uint8_t *code)
{
    size_t at = 0;
    while (!fz_done(c) && at + 64 < CODE_MAX) {
        uint8_t tag = fz_u8(c);
        if (tag < 0x80) {
            size_t n;
            const uint8_t *bytes = fz_bytes(c, (tag & 0x3Fu) + 1u, &n);
            memcpy(code + at, bytes, n);
            at += n;
            continue;
        }
        uint8_t num = fz_u8(c);
        static const uint8_t movs[3] = {0xB8, 0xBA, 0xB9}; /* mov eax/edx/ecx, imm32 */
        for (int i = 0; i < 3; i++)
            at = put32(code, put8(code, at, movs[i]), fz_u32(c));
        for (int i = 0; i < 2; i++)
            at = put32(code, put8(code, at, 0x68), fz_u32(c)); /* push imm32 */
        uint32_t slot = ROM_PHYS_BASE + ROM_SLOT_BASE + (uint32_t)num * ROM_SLOT_SIZE;
        at = put32(code, put8(code, at, 0xE8), slot - (CODE_BASE + (uint32_t)at + 5)); /* call rel32 */
        at = put8(code, put8(code, put8(code, at, 0x83), 0xC4), 0x08);                /* add esp, 8 */
    }
    return put8(code, at, 0xF4); /* hlt */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t code[CODE_MAX];
    fz_cursor c = {data, size, 0};
    size_t len = build(&c, code);

    static machine m;
    fz_boot_hello(&m, 4, 1000, START);
    vm_error err = {0};
    if (machine_run(&m) != END_LIMIT || !phys_write(&m.mem, CODE_BASE, code, len) ||
        !vcpu_set(m.cpu, CPU_EIP, CODE_BASE))
        abort();
    m.end = END_RUNNING;
    m.cfg.max_insns = START + BOUND;
    snap_forget(&m); /* the past is hello's: the timeline starts at the guest code */
    if (!snap_take(&m, &err))
        abort();
    (void)machine_run(&m);
    machine_free(&m);
    return 0;
}
