/* A ROM call's registers (EAX..EDI, EIP, EFLAGS, CS) read from Unicorn's CPU state itself.
 *
 * Why: uc_reg_read_batch of the four registers an interrupt-flag call reads cost ~480 host
 * instructions (Unicorn's per-register switch, EFLAGS's flag computation), a sixth of a logged
 * call; reading the words costs a few dozen. A Linux boot makes ~0.9 M ROM calls.
 *
 * How: QEMU's CPUX86State (Unicorn 2.1.4, 64-bit target) starts with regs[16] (EAX, ECX, EDX,
 * EBX, ESP, EBP, ESI, EDI, ...: 64-bit words, i386 code sees their low halves), then eip,
 * eflags (without the arithmetic flags and DF, which QEMU keeps lazily in
 * cc_dst/cc_src/cc_src2/cc_op and df), hflags, hflags2, and segs[6] (ES, CS, SS, DS, FS, GS),
 * 24 bytes each, the selector first. EFLAGS is built as Unicorn's register read builds it:
 * eflags without its arithmetic flags and DF (a host write of EFLAGS leaves stale ones there),
 * | cpu_cc_compute_all(env, cc_op) | (df & DF).
 *
 * The state's address is learned from pushfd: the link wraps Unicorn's helper_read_eflags
 * (CMakeLists.txt), which notes the state it runs on in a thread-local word (an
 * interrupt-flag call's GetInterruptMask slot is a pushfd, and kernels run many). The first
 * ROM call after that checks the candidate against the engine's own API before binding it:
 * patterns written through the API appear in regs[] (vcpu_cpuid_state_layout_ok: it is this
 * engine's state, not another's on the same thread), and every register this file reads
 * equals the API's answer. Another Unicorn version, or a check that fails: the batch read, as
 * before. */
#include "cpu/regs_direct.h"

#include <string.h>

#include "cpu/cpu_internal.h"
#include "cpu/cpuid_direct.h"
#include "cpu/helper_wrap.h"

uint64_t __real_helper_read_eflags_x86_64(void *env);
uint64_t __wrap_helper_read_eflags_x86_64(void *env);
uint32_t cpu_cc_compute_all_x86_64(void *env, int op);

#define OFF_EIP 128
#define OFF_EFLAGS 136
#define OFF_CC_OP 168
#define OFF_DF 172
#define OFF_SEGS 184
#define SEG_SIZE 24
#define SEG_CS 1
#define DF_MASK 0x400u
#define CC_MASK 0x8D5u /* OF, SF, ZF, AF, PF, CF */

_Thread_local void *vcpu_regs_seen; /* the state the last pushfd ran on */

_Thread_local uint64_t vcpu_dr_writes;

/* A guest mov to a debug register (any engine of this thread): what was known of DR7 is not. */
void vcpu_dr_note_write(void);
void vcpu_dr_note_write(void) { vcpu_dr_writes++; }
/* A trampoline (helper_wrap.h): the helper raises #UD for DR4/DR5 with CR4.DE set. */
VCPU_HELPER_WRAP_BEFORE(helper_set_dr_x86_64, vcpu_dr_note_write);

uint64_t __wrap_helper_read_eflags_x86_64(void *env)
{
    vcpu_regs_seen = env;
    return __real_helper_read_eflags_x86_64(env);
}

void vcpu_regs_direct_open(cpu *c) { c->regs_direct_ok = (uc_version(NULL, NULL) >> 8) == 0x020104u; }

void vcpu_regs_direct_close(cpu *c)
{
    (void)c;
    vcpu_regs_seen = NULL; /* it may be c's, about to be freed: rebinding another engine costs one check */
}

static uint32_t word_at(const void *state, size_t off)
{
    uint32_t v;
    memcpy(&v, (const uint8_t *)state + off, sizeof v);
    return v;
}

static uint32_t eflags_of(void *state)
{
    int32_t df;
    memcpy(&df, (const uint8_t *)state + OFF_DF, sizeof df);
    return (word_at(state, OFF_EFLAGS) & ~(CC_MASK | DF_MASK)) |
           cpu_cc_compute_all_x86_64(state, (int)word_at(state, OFF_CC_OP)) | ((uint32_t)df & DF_MASK);
}

static void read_state(void *state, uint32_t want, uint32_t *out)
{
    for (uint32_t left = want & ((1u << CPU_EIP) - 1); left; left &= left - 1) {
        int r = __builtin_ctz(left);
        out[r] = word_at(state, (size_t)r * 8u); /* regs[] follows cpu_reg's order, EAX..EDI */
    }
    if (want & 1u << CPU_EIP)
        out[CPU_EIP] = word_at(state, OFF_EIP);
    if (want & 1u << CPU_EFLAGS)
        out[CPU_EFLAGS] = eflags_of(state);
    if (want & 1u << CPU_CS)
        out[CPU_CS] = word_at(state, OFF_SEGS + SEG_CS * SEG_SIZE) & 0xFFFFu;
}

/* Every register read here equals the API's answer on c's engine. */
static bool layout_ok(cpu *c, void *state)
{
    static const int ids[CALL_REGS] = {
        UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX, UC_X86_REG_ESP, UC_X86_REG_EBP,
        UC_X86_REG_ESI, UC_X86_REG_EDI, UC_X86_REG_EIP, UC_X86_REG_EFLAGS, UC_X86_REG_CS,
    };
    _Static_assert(CALL_REGS == CPU_CS + 1 && CPU_EIP == 8 && CPU_EFLAGS == 9, "EAX..EDI, EIP, EFLAGS, CS");
    uint32_t api[CALL_REGS] = {0}, direct[CALL_REGS];
    void *ptrs[CALL_REGS];
    for (int i = 0; i < CALL_REGS; i++)
        ptrs[i] = &api[i];
    if (!vcpu_cpuid_state_layout_ok(c->uc, state) || uc_reg_read_batch(c->uc, (int *)ids, ptrs, CALL_REGS) != UC_ERR_OK)
        return false;
    api[CPU_CS] &= 0xFFFFu;
    read_state(state, (1u << CALL_REGS) - 1, direct);
    return memcmp(api, direct, sizeof api) == 0;
}

/* c's engine bound to its state, if it is or can be now. */
static bool bound(cpu *c)
{
    if (c->regs_state)
        return true;
    void *seen = vcpu_regs_seen;
    if (!c->regs_direct_ok || !seen || seen == c->regs_rejected)
        return false;
    if (!layout_ok(c, seen)) {
        c->regs_rejected = seen;
        return false;
    }
    c->regs_state = seen;
    return true;
}

bool vcpu_regs_direct_read(cpu *c, uint32_t want, uint32_t *out)
{
    if (!bound(c))
        return false;
    read_state(c->regs_state, want, out);
    return true;
}

bool vcpu_regs_direct_system_flags(cpu *c, uint32_t *out)
{
    if (!bound(c))
        return false;
    *out = word_at(c->regs_state, OFF_EFLAGS) & ~(CC_MASK | DF_MASK);
    return true;
}

bool vcpu_regs_direct_flag_call(cpu *c, bool whole, uint32_t *out)
{
    void *state = c->regs_state;
    if (!state)
        return false;
    out[CPU_EAX] = word_at(state, (size_t)CPU_EAX * 8u);
    out[CPU_ESP] = word_at(state, (size_t)CPU_ESP * 8u);
    out[CPU_CS] = word_at(state, OFF_SEGS + SEG_CS * SEG_SIZE) & 0xFFFFu;
    out[CPU_EFLAGS] = whole ? eflags_of(state) : word_at(state, OFF_EFLAGS) & ~(CC_MASK | DF_MASK);
    return true;
}
