#include "cpu/calibrate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

#define SCRATCH_SIZE 0x10000u
#define CODE 0x2000u

typedef struct probe {
    uc_context *ctx;
    bool hit;
} probe;

static void on_interrupt(uc_engine *uc, uint32_t intno, void *user)
{
    (void)intno;
    probe *p = user;
    uc_context_save(uc, p->ctx);
    p->hit = true;
    uc_emu_stop(uc);
}

/* Run `code` on a fresh engine set up like vmiemu's and copy the context saved at the first
 * exception into a malloc'ed buffer of *size bytes. */
static uint8_t *context_at_exception(const uint8_t *code, size_t len, size_t *size)
{
    uc_engine *uc;
    if (uc_open(UC_ARCH_X86, UC_MODE_32, &uc) != UC_ERR_OK)
        return NULL;
    uint8_t *ram = calloc(1, SCRATCH_SIZE), *copy = NULL;
    probe p = {0};
    uc_hook h;
    static const uint64_t gdt[3] = {0, 0x00CF9B000000FFFFull, 0x00CF93000000FFFFull};
    uc_x86_mmr gdtr = {.base = 0x1000, .limit = sizeof gdt - 1};
    uint16_t data = 0x10, codesel = 0x08;
    uint32_t esp = 0x8000;
    if (!ram || uc_ctl_set_cpu_model(uc, UC_CPU_X86_COREDUO) != UC_ERR_OK ||
        uc_mem_map_ptr(uc, 0, SCRATCH_SIZE, UC_PROT_ALL, ram) != UC_ERR_OK)
        goto out;
    memcpy(ram + 0x1000, gdt, sizeof gdt);
    memcpy(ram + CODE, code, len);
    if (uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr) || uc_reg_write(uc, UC_X86_REG_SS, &data) ||
        uc_reg_write(uc, UC_X86_REG_DS, &data) || uc_reg_write(uc, UC_X86_REG_CS, &codesel) ||
        uc_reg_write(uc, UC_X86_REG_ESP, &esp) || uc_context_alloc(uc, &p.ctx) ||
        uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)on_interrupt, &p, 1, 0))
        goto out;
    uc_emu_start(uc, CODE, 0, 0, 0);
    *size = uc_context_size(uc);
    if (p.hit && (copy = malloc(*size)))
        memcpy(copy, p.ctx, *size);
out:
    if (p.ctx)
        uc_context_free(p.ctx);
    uc_close(uc);
    free(ram);
    return copy;
}

static uint32_t word_at(const uint8_t *ctx, size_t off)
{
    uint32_t v;
    memcpy(&v, ctx + off, sizeof v);
    return v;
}

/* The single offset where the three contexts hold a, c and b; false if none or several. */
static bool find_unique(const uint8_t *A, const uint8_t *C, const uint8_t *B, size_t size, uint32_t a,
                        uint32_t c, uint32_t b, size_t *off)
{
    int found = 0;
    for (size_t i = 0; i + 4 <= size; i += 4)
        if (word_at(A, i) == a && word_at(C, i) == c && word_at(B, i) == b) {
            *off = i;
            found++;
        }
    return found == 1;
}

bool vcpu_calibrate(vcpu_layout *out, vm_error *err)
{
    static vcpu_layout cached;
    static bool done;
    if (done) {
        *out = cached;
        return true;
    }
    /* Different registers carry the selector in each run, so only the error code field holds
     * 0x98 in one context and 0xA0 in the other. */
    static const uint8_t gp98[] = {0x66, 0xB9, 0x98, 0x00, 0x8E, 0xD9}; /* mov cx,0x98; mov ds,cx */
    static const uint8_t gpA0[] = {0x66, 0xBA, 0xA0, 0x00, 0x8E, 0xDA}; /* mov dx,0xA0; mov ds,dx */
    static const uint8_t int41[] = {0xCD, 0x41};                        /* int 0x41 */
    size_t sa = 0, sc = 0, sb = 0;
    uint8_t *A = context_at_exception(gp98, sizeof gp98, &sa);
    uint8_t *C = context_at_exception(gpA0, sizeof gpA0, &sc);
    uint8_t *B = context_at_exception(int41, sizeof int41, &sb);
    bool ok = A && B && C && sa == sb && sa == sc;
    vcpu_layout l = {.context_size = sa};
    if (ok)
        ok = find_unique(A, C, B, sa, 0x98, 0xA0, 0, &l.error_code) &&
             find_unique(A, C, B, sa, 0, 0, 1, &l.is_int) &&
             find_unique(A, C, B, sa, 13, 13, 0xFFFFFFFFu, &l.old_exception);
    free(A);
    free(B);
    free(C);
    if (!ok)
        return vm_fail(err, VM_EENGINE,
                       "this Unicorn build does not keep its exception state where vmiemu expects "
                       "(calibration failed); exceptions could not be delivered. Use unicorn 2.1.4");
    cached = l;
    done = true;
    *out = l;
    return true;
}
