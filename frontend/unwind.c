#include "frontend/unwind.h"

#include <stdio.h>
#include <string.h>

#define MAX_FP_FRAME 0x10000u /* a frame-pointer frame bigger than this is not believed */

typedef enum call_kind { NO_CALL, DIRECT_CALL, INDIRECT_CALL } call_kind;

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static bool read32(dbg *d, uint32_t addr, uint32_t *v)
{
    uint8_t b[4];
    if (!dbg_read(d, addr, b, 4))
        return false;
    *v = le32(b);
    return true;
}

/* Is `ff /2` (call near indirect) with this ModRM byte exactly n bytes long (SIB byte: sib)? */
static bool indirect_len(uint8_t modrm, uint8_t sib, unsigned n)
{
    unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
    if (reg != 2)
        return false;
    unsigned len = 2;
    if (mod != 3 && rm == 4) {
        len++; /* SIB */
        if (mod == 0 && (sib & 7) == 5)
            len += 4;
    }
    if (mod == 0 && rm == 5)
        len += 4;
    else if (mod == 1)
        len += 1;
    else if (mod == 2)
        len += 4;
    return len == n;
}

/* Does a call instruction end at ret? For a direct call, and for `call *ADDR` (how paravirt
 * calls through pv_ops look), *target is where it went (as ADDR holds it now). */
static call_kind call_before(dbg *d, uint32_t ret, uint32_t *target)
{
    uint8_t b[7]; /* the 7 bytes before ret: b[7 - n] starts an n-byte instruction */
    if (ret < sizeof b || !dbg_read(d, ret - (uint32_t)sizeof b, b, sizeof b))
        return NO_CALL;
    if (b[2] == 0xE8) {
        *target = ret + le32(b + 3);
        return DIRECT_CALL;
    }
    if (b[1] == 0xFF && b[2] == 0x15 && read32(d, le32(b + 3), target))
        return DIRECT_CALL;
    for (unsigned n = 2; n <= 7; n++)
        if (b[7 - n] == 0xFF && indirect_len(b[8 - n], n >= 3 ? b[9 - n] : 0, n))
            return INDIRECT_CALL;
    return NO_CALL;
}

/* How certain a candidate return address is, for the frame whose code starts at func (0 =
 * unknown; then a direct call to just below pc counts as certain). */
typedef enum verdict { NOT_RETURN, OTHER_CALL, GUESS, CERTAIN } verdict;

static verdict judge(dbg *d, const symtab *syms, uint32_t word, uint32_t func, uint32_t pc)
{
    const symbol *s = symtab_find(syms, word);
    if (syms->count && (!s || !s->text))
        return NOT_RETURN;
    uint32_t target = 0;
    switch (call_before(d, word, &target)) {
    case NO_CALL: return NOT_RETURN;
    case INDIRECT_CALL: return GUESS;
    case DIRECT_CALL:
        if (func ? target == func : target <= pc && pc - target < 0x1000)
            return CERTAIN;
        return OTHER_CALL;
    }
    return NOT_RETURN;
}

/* Scan up from sp for the return address of the frame at pc (function func): the first proven
 * one anywhere up to limit, else the first guess, else the first other call. A proven one wins
 * over an earlier guess because a function's uninitialised locals often hold stale return
 * addresses of indirect calls made before it ran. */
static bool scan(dbg *d, const symtab *syms, uint32_t sp, uint32_t soft, uint32_t hard, uint32_t func, uint32_t pc,
                 unwind_frame *out)
{
    uint32_t at[CERTAIN + 1] = {0}, word[CERTAIN + 1] = {0};
    for (uint32_t a = sp; a >= sp && a <= hard - 4; a += 4) {
        uint32_t w;
        if (!read32(d, a, &w))
            break;
        verdict v = judge(d, syms, w, func, pc);
        if (a >= soft && v != CERTAIN)
            continue; /* past where the stack is believed to end, only proof counts */
        if (v != NOT_RETURN && !at[v]) {
            at[v] = a;
            word[v] = w;
        }
        if (v == CERTAIN)
            break;
    }
    for (int v = CERTAIN; v > NOT_RETURN; v--)
        if (at[v]) {
            *out = (unwind_frame){word[v], at[v] + 4, v != CERTAIN};
            return true;
        }
    return false;
}

size_t unwind(dbg *d, const symtab *syms, unwind_frame *frames, size_t max)
{
    uint32_t pc = dbg_reg(d, CPU_EIP), sp = dbg_reg(d, CPU_ESP), bp = dbg_reg(d, CPU_EBP);
    uint64_t end = ((uint64_t)sp | (UNWIND_STACK_SPAN - 1)) + 1; /* where a Linux stack ends */
    uint32_t soft = end > 0xFFFFFFFCu ? 0xFFFFFFFCu : (uint32_t)end;
    uint32_t hard = end + UNWIND_STACK_SPAN > 0xFFFFFFFCu ? 0xFFFFFFFCu : (uint32_t)(end + UNWIND_STACK_SPAN);
    size_t n = 0;
    if (max == 0)
        return 0;
    frames[n++] = (unwind_frame){pc, sp, false};
    while (n < max) {
        const symbol *f = symtab_find(syms, pc);
        uint32_t func = f && f->text ? f->addr : 0;
        uint8_t code[3] = {0}, here = 0;
        bool fp_func = func && dbg_read(d, func, code, 3) && code[0] == 0x55 &&
                       ((code[1] == 0x89 && code[2] == 0xE5) || (code[1] == 0x8B && code[2] == 0xEC));
        bool at_ret = dbg_read(d, pc, &here, 1) && (here == 0xC3 || here == 0xC2);
        unwind_frame next = {0};
        uint32_t slot = 0, ret = 0, saved_bp = bp;
        bool found = false;
        if (pc == func || at_ret)
            slot = sp;
        else if (fp_func && pc == func + 1)
            slot = sp + 4;
        if (slot && read32(d, slot, &ret) && judge(d, syms, ret, func, pc) != NOT_RETURN) {
            next = (unwind_frame){ret, slot + 4, false};
            found = true;
        } else if (fp_func && pc > func + 1 && bp >= sp && bp - sp < MAX_FP_FRAME && read32(d, bp + 4, &ret) &&
                   read32(d, bp, &saved_bp) && judge(d, syms, ret, func, pc) != NOT_RETURN) {
            next = (unwind_frame){ret, bp + 8, false};
            found = true;
        } else {
            found = scan(d, syms, sp, soft, hard, func, pc, &next);
            saved_bp = bp; /* without a frame pointer EBP is just a register the callee kept */
        }
        if (!found || next.pc == 0 || next.sp <= sp)
            break;
        frames[n++] = next;
        pc = next.pc;
        sp = next.sp;
        bp = saved_bp;
    }
    return n;
}

void unwind_format(dbg *d, const symtab *syms, size_t max, char *buf, size_t len)
{
    unwind_frame frames[UNWIND_MAX_FRAMES];
    size_t n = unwind(d, syms, frames, max < UNWIND_MAX_FRAMES ? max : UNWIND_MAX_FRAMES), k = 0;
    if (len)
        buf[0] = 0;
    for (size_t i = 0; i < n && k < len; i++) {
        char sym[128];
        bool known = symtab_describe(syms, frames[i].pc, sym, sizeof sym);
        int w = snprintf(buf + k, len - k, "#%-2zu 0x%08x%s%s%s%s\n", i, frames[i].pc, known ? " <" : "", known ? sym : "",
                         known ? ">" : "", frames[i].guessed ? " ?" : "");
        k += w > 0 ? (size_t)w : 0;
    }
}
