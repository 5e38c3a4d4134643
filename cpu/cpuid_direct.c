/* CPUID answered inside Unicorn's cpuid helper (cpuid_direct.h).
 *
 * Why: a guest cpuid through Unicorn's instruction hook costs ~1,100 host instructions, of
 * which the answer is ~20: Unicorn first rebuilds the guest EIP from the host return address
 * (cpu_restore_state: a search of its translation-block tree and a decode of the block's
 * instruction table, ~410), walks its list of instruction hooks (~140), and the hook reads
 * EAX, ECX and CR4 and writes four registers through the API (~40 host instructions per
 * register, plus the calls). kvm-unit-tests' vmexit cpuid is an 8-instruction loop around
 * one cpuid: 3× QEMU there (docs/BENCHMARKS.md).
 *
 * How: the link wraps Unicorn's helper_cpuid_x86_64 (CMakeLists.txt: --wrap), which its
 * translator calls for every cpuid with its CPU state (QEMU's CPUX86State, whose first member
 * is regs[]: EAX, ECX, EDX, EBX... as 64-bit words; i386 code sees their low halves, and a
 * 32-bit engine's register writes clear the high ones). An engine is answered here only once
 * bound: its first cpuid goes through Unicorn's helper and vmiemu's hook as before; the hook
 * says which cpu it is (vcpu_cpuid_direct_learn), and after the helper returns this file
 * checks the layout on that very state through the engine's API (vcpu_cpuid_state_layout_ok:
 * the registers read through the API are there, and patterns written through it appear there)
 * before binding it. Then each cpuid calls the machine's CPUID callback directly, as the hook
 * does, and writes the answer where the hook's uc_reg_write would: the same registers, the
 * same high halves. Nothing else differs: EIP was already stored by the translated code before
 * the call (translate.c: gen_jmp_im before gen_helper_cpuid), the flags are untouched, the
 * SVM intercept check Unicorn's helper makes first cannot apply (no model reports SVM and
 * EFER.SVME is refused, model.c). If anything does not hold (another Unicorn version: no
 * binding; an engine whose check fails; the ROM call's cached registers in use), the
 * cpuid takes Unicorn's helper and the hook, as without this file.
 *
 * The binding is per thread (a CPU runs on the thread that opened it) and one engine at a
 * time: running another engine's cpuid rebinds through the hook, which only costs time. */
#include "cpu/cpuid_direct.h"

#include <stdint.h>

#include "cpu/cpu_internal.h"

void __real_helper_cpuid_x86_64(void *env);
void __wrap_helper_cpuid_x86_64(void *env);
void __real_helper_rdtsc_x86_64(void *env);
void __wrap_helper_rdtsc_x86_64(void *env);

enum { R_EAX, R_ECX, R_EDX, R_EBX }; /* QEMU's register numbers, regs[] order */

static _Thread_local struct {
    void *state; /* the engine's CPU state */
    cpu *c;
} bound;

static _Thread_local struct {
    void *state; /* set while Unicorn's helper runs (and calls the hook) */
    cpu *c;      /* set by the hook */
} learning;

void vcpu_cpuid_direct_open(cpu *c)
{
    c->cpuid_direct_ok = (uc_version(NULL, NULL) >> 8) == 0x020104u; /* the probe test's Unicorn */
}

void vcpu_cpuid_direct_close(cpu *c)
{
    if (bound.c == c)
        bound.state = NULL, bound.c = NULL;
    if (learning.c == c)
        learning.c = NULL;
}

void vcpu_cpuid_direct_learn(cpu *c)
{
    if (learning.state && c->cpuid_direct_ok)
        learning.c = c;
}

bool vcpu_cpuid_direct_bound(const cpu *c) { return c && bound.c == c && bound.state; }

void *vcpu_cpuid_helper_state(void) { return learning.state; }

bool vcpu_cpuid_state_layout_ok(uc_engine *uc, void *state)
{
    static const int ids[4] = {UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX};
    static const uint32_t pattern[4] = {0x5EED0A11u, 0x5EED0C11u, 0x5EED0D11u, 0x5EED0B11u};
    const volatile uint64_t *regs = state;
    uint32_t keep[4];
    void *kp[4], *pp[4];
    for (int i = 0; i < 4; i++) {
        kp[i] = &keep[i];
        pp[i] = (void *)&pattern[i];
    }
    if (!state || uc_reg_read_batch(uc, (int *)ids, kp, 4) != UC_ERR_OK)
        return false;
    bool ok = true;
    for (int i = 0; i < 4; i++)
        ok = ok && (uint32_t)regs[i] == keep[i];
    if (!ok || uc_reg_write_batch(uc, (int *)ids, pp, 4) != UC_ERR_OK)
        return false;
    for (int i = 0; i < 4; i++)
        ok = ok && regs[i] == pattern[i]; /* the high half cleared, as a 32-bit engine's writes do */
    /* Back as they were: written through the API, as the hook wrote them. */
    if (uc_reg_write_batch(uc, (int *)ids, kp, 4) != UC_ERR_OK)
        return false;
    for (int i = 0; i < 4; i++)
        ok = ok && regs[i] == keep[i];
    return ok;
}

/* What cpu.c's on_cpuid does, on the state itself. */
static void answer(cpu *c, uint64_t *regs)
{
    if (c->end_contained)
        return; /* the run has ended: as the hook, leave the registers alone */
    uint32_t r[4] = {(uint32_t)regs[R_EAX], 0, (uint32_t)regs[R_ECX], 0}; /* EAX, EBX, ECX, EDX */
    if (c->ops.cpuid)
        c->ops.cpuid(c->ops.ctx, r);
    regs[R_EAX] = r[0];
    regs[R_EBX] = r[1];
    regs[R_ECX] = r[2];
    regs[R_EDX] = r[3];
}

void __wrap_helper_cpuid_x86_64(void *env)
{
    cpu *c = bound.c;
    /* A ROM call's cached registers (at_block_start) are only ever in use in the block hook;
     * the check keeps them coherent if that ever changes. */
    if (env == bound.state && c && !c->at_block_start && !c->call_regs_have) {
        answer(c, env);
        return;
    }
    if (learning.state) { /* not expected: the hook does not run guest code */
        __real_helper_cpuid_x86_64(env);
        return;
    }
    learning.state = env;
    learning.c = NULL;
    __real_helper_cpuid_x86_64(env);
    c = learning.c;
    learning.state = NULL;
    learning.c = NULL;
    if (c && vcpu_cpuid_state_layout_ok(c->uc, env)) {
        bound.state = env;
        bound.c = c;
    }
}

/* RDTSC on a bound engine (the binding cpuid made: the state is that cpu's, regs[] as
 * checked): answered here as cpu.c's on_rdtsc would, without Unicorn's EIP rebuild (a search
 * of its translation tree, 4.6 million times in the Debian boot) and its hook walk. */
void __wrap_helper_rdtsc_x86_64(void *env)
{
    cpu *c = bound.c;
    if (env == bound.state && c && !c->at_block_start && !c->call_regs_have && vcpu_rdtsc_direct(c, env))
        return;
    __real_helper_rdtsc_x86_64(env);
}
