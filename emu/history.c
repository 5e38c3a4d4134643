#include "emu/history.h"

#include <stdlib.h>
#include <string.h>

#include "emu/machine.h"
#include "mmu/pagewalk.h"
#include "rom/rom.h"

#define CR0_PG 0x80000000u
#define CR4_PSE 0x10u
#define CR4_PAE 0x20u

/* A store not yet done: reads of its bytes see its value (the store trace runs before it lands). */
typedef struct pending_store {
    bool on;
    uint64_t at, value;
    int size;
} pending_store;

/* Where the value lives, so a store elsewhere is passed over at once: up to two ranges. */
typedef struct hist_loc {
    uint64_t at[2];
    uint32_t len[2];
    int n;
} hist_loc;

static hist_loc cur_loc; /* the collection's (one at a time, as machine->history is one) */

/* The value lives at l now: stores there are traced, and nowhere else. */
static void locate(history *h, const hist_loc *l)
{
    if (l->n == cur_loc.n && !memcmp(l->at, cur_loc.at, sizeof l->at) && !memcmp(l->len, cur_loc.len, sizeof l->len))
        return;
    cur_loc = *l;
    if (h->kind != HIST_CR3 && !vcpu_trace_ranges(h->m->cpu, l->n, l->at, l->len))
        h->trace_failed = true;
}

const char *hist_kind_name(hist_kind k)
{
    static const char *const names[] = {"pte", "gdt", "idt", "cr3"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static bool read_bytes(history *h, const pending_store *p, uint64_t at, uint8_t *b, uint32_t len)
{
    if (!phys_range_is_ram(&h->m->mem, at, len) || !phys_read(&h->m->mem, at, b, len))
        return false;
    for (uint32_t i = 0; p && p->on && i < len; i++)
        if (at + i >= p->at && at + i < p->at + (uint64_t)p->size)
            b[i] = (uint8_t)(p->value >> (8 * (at + i - p->at)));
    return true;
}

static void add_loc(hist_loc *l, uint64_t at, uint32_t len)
{
    if (l->n < 2) {
        l->at[l->n] = at;
        l->len[l->n++] = len;
    }
}

/* The entry mapping h->arg under the current CR3: the PTE, or the PDE when no table is under it. */
static hist_what eval_pte(history *h, const pending_store *p, uint64_t *value, hist_loc *l)
{
    uint32_t cr0 = vcpu_get(h->m->cpu, CPU_CR0), cr4 = vcpu_get(h->m->cpu, CPU_CR4);
    if (!(cr0 & CR0_PG) || (cr4 & CR4_PAE))
        return HIST_NONE;
    uint32_t cr3 = vcpu_get(h->m->cpu, CPU_CR3), pde, pte;
    uint64_t pde_at = (cr3 & ~0xFFFu) + (h->arg >> 22) * 4u;
    if (!read_bytes(h, p, pde_at, (uint8_t *)&pde, 4))
        return HIST_NONE;
    add_loc(l, pde_at, 4);
    *value = pde;
    if (!(pde & 1) || ((pde & 0x80) && (cr4 & CR4_PSE)))
        return HIST_PDE;
    uint64_t pte_at = (pde & ~0xFFFu) + ((h->arg >> 12) & 0x3FFu) * 4u;
    if (!read_bytes(h, p, pte_at, (uint8_t *)&pte, 4))
        return HIST_NONE;
    add_loc(l, pte_at, 4);
    *value = pte;
    return HIST_PTE_V;
}

/* A linear address to physical through the guest's tables (read only: the guest's TLB and
 * Unicorn's are left alone). */
static bool to_phys(history *h, uint32_t linear, uint64_t *phys)
{
    pagewalk w;
    pagewalk_walk(&h->m->mem, vcpu_get(h->m->cpu, CPU_CR0), vcpu_get(h->m->cpu, CPU_CR3),
                  vcpu_get(h->m->cpu, CPU_CR4), linear, &w);
    if (!w.paging) {
        *phys = linear;
        return true;
    }
    *phys = w.phys;
    return !w.pae && w.mapped;
}

/* Descriptor arg of the GDT or IDT: its 8 bytes, each half read where it is mapped. */
static hist_what eval_desc(history *h, const pending_store *p, uint64_t *value, hist_loc *l)
{
    vcpu_table_reg t;
    if (!vcpu_get_table(h->m->cpu, h->kind == HIST_GDT ? CPU_GDTR : CPU_IDTR, &t) || (uint64_t)h->arg * 8 + 7 > t.limit)
        return HIST_NONE;
    uint32_t lin = t.base + h->arg * 8u, half[2];
    for (int i = 0; i < 2; i++) {
        uint64_t phys;
        if (!to_phys(h, lin + 4u * (uint32_t)i, &phys) || !read_bytes(h, p, phys, (uint8_t *)&half[i], 4))
            return HIST_NONE;
        add_loc(l, phys, 4);
    }
    *value = (uint64_t)half[1] << 32 | half[0];
    return HIST_VALUE;
}

static hist_what eval(history *h, const pending_store *p, uint64_t *value, hist_loc *l)
{
    *value = 0;
    *l = (hist_loc){0};
    switch (h->kind) {
    case HIST_PTE:
        return eval_pte(h, p, value, l);
    case HIST_GDT:
    case HIST_IDT:
        return eval_desc(h, p, value, l);
    case HIST_CR3:
        *value = vcpu_get(h->m->cpu, CPU_CR3);
        return HIST_VALUE;
    }
    return HIST_NONE;
}

/* A store's value over the descriptor's known bytes, without walking the tables again (no
 * walk from inside a store). */
static hist_what eval_at_locs(history *h, const pending_store *p, uint64_t *value)
{
    uint32_t half[2];
    *value = 0;
    for (int i = 0; i < 2; i++)
        if (!read_bytes(h, p, cur_loc.at[i], (uint8_t *)&half[i], 4))
            return HIST_NONE;
    *value = (uint64_t)half[1] << 32 | half[0];
    return HIST_VALUE;
}

static void add(history *h, hist_change c)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 64;
        hist_change *v = realloc(h->v, cap * sizeof *v);
        if (!v) {
            h->oom = true;
            return;
        }
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n++] = c;
}

/* Only Accessed/Dirty bits went on: what the CPU itself does to an entry it uses. */
static bool cpu_bits_only(const history *h, hist_what what, uint64_t value)
{
    uint64_t diff = h->value ^ value, bits = h->kind == HIST_PTE ? 0x60u : h->kind == HIST_GDT ? 1ull << 40 : 0;
    return what == h->what && what != HIST_NONE && diff && !(diff & ~bits) && (value & diff) == diff;
}

/* A change seen now: kept with its cause, and the value moves on. */
static void changed(history *h, hist_change c, hist_what what, uint64_t value)
{
    if (c.cause != HIST_BY_CALL && cpu_bits_only(h, what, value))
        c.cause = HIST_CPU_BITS;
    c.old_value = h->value;
    c.old_what = h->what;
    c.new_value = value;
    c.new_what = (uint8_t)what;
    add(h, c);
    h->value = value;
    h->what = (uint8_t)what;
}

static bool same(const history *h, hist_what what, uint64_t value) { return what == h->what && value == h->value; }

/* A store inside a native call's slot is the call's own: the call is logged once its slot has
 * returned, and the change goes to it there. */
static bool in_native_slot(history *h, uint32_t eip)
{
    uint32_t low = eip & 0xFFFFFu;
    return h->m->rom.npending > 0 && low >= ROM_PHYS_BASE && low < ROM_PHYS_BASE + ROM_IMAGE_SIZE;
}

static void on_store(void *ctx, uint64_t phys, int size, uint64_t value, uint64_t icount, uint32_t eip)
{
    history *h = ctx;
    bool hit = false;
    for (int i = 0; i < cur_loc.n; i++)
        hit |= phys < cur_loc.at[i] + cur_loc.len[i] && phys + (uint64_t)size > cur_loc.at[i];
    if (!hit || in_native_slot(h, eip))
        return;
    pending_store p = {true, phys, value, size};
    uint64_t v;
    hist_what what;
    if (h->kind == HIST_GDT || h->kind == HIST_IDT) {
        what = eval_at_locs(h, &p, &v);
    } else {
        hist_loc l;
        what = eval(h, &p, &v, &l);
        locate(h, &l); /* a new directory entry moves the table entry */
    }
    if (same(h, what, v))
        return;
    uint64_t base = h->m->insns_before_boot;
    h->looked = base + icount;
    changed(h, (hist_change){.icount = base + icount, .eip = eip, .cause = HIST_RAW_WRITE, .where = phys}, what, v);
}

/* Calls that change this kind of state: a change seen at one of them is the call's doing. */
static bool call_changes(hist_kind k, unsigned num)
{
    switch (k) {
    case HIST_PTE:
        return num == VMI_CALL_SetPxE || num == VMI_CALL_SetPxELong || num == VMI_CALL_UpdatePxE ||
               num == VMI_CALL_UpdatePxELong || num == VMI_CALL_SetCR3 || num == VMI_CALL_SetCR0 ||
               num == VMI_CALL_SetCR4;
    case HIST_GDT:
        return num == VMI_CALL_WriteGDTEntry || num == VMI_CALL_SetGDT || num == VMI_CALL_SetTR; /* ltr marks the TSS busy */
    case HIST_IDT:
        return num == VMI_CALL_WriteIDTEntry || num == VMI_CALL_SetIDT;
    case HIST_CR3:
        return num == VMI_CALL_SetCR3;
    }
    return false;
}

static void look(history *h, const vm_event *ev)
{
    uint64_t v;
    hist_loc l;
    hist_what what = eval(h, NULL, &v, &l);
    locate(h, &l);
    uint64_t now = machine_insns(h->m), since = h->looked;
    h->looked = now;
    if (same(h, what, v))
        return;
    hist_change c = {.icount = ev ? ev->icount : now, .eip = ev ? ev->eip : vcpu_get(h->m->cpu, CPU_EIP),
                     .cause = HIST_RAW_SEEN, .since = since};
    if (ev && ev->kind == EV_VMI_CALL && call_changes(h->kind, ev->num)) {
        c.cause = HIST_BY_CALL;
        c.callnum = ev->num;
        c.call = h->calls - 1;
    }
    changed(h, c, what, v);
}

void history_on_event(history *h, const vm_event *ev)
{
    size_t total = evlog_count(&h->m->log);
    if (total != h->events + 1) /* the log moved by another way (going back): count afresh */
        h->calls = evlog_count_kind(&h->m->log, EV_VMI_CALL, total);
    else if (ev->kind == EV_VMI_CALL)
        h->calls++;
    h->events = total;
    look(h, ev);
}

void history_check(history *h) { look(h, NULL); }

bool history_start(machine *m, history *h, hist_kind kind, uint32_t arg, vm_error *err)
{
    *h = (history){.m = m, .kind = kind, .arg = arg};
    if (!m->cpu)
        return vm_fail(err, VM_EINVAL, "no machine to watch");
    if (m->history)
        return vm_fail(err, VM_EINVAL, "a history collection is already running");
    h->events = evlog_count(&m->log);
    h->looked = machine_insns(m);
    h->calls = evlog_count_kind(&m->log, EV_VMI_CALL, h->events);
    hist_loc l;
    h->what = (uint8_t)eval(h, NULL, &h->value, &l);
    add(h, (hist_change){.icount = machine_insns(m), .eip = vcpu_get(m->cpu, CPU_EIP), .cause = HIST_INITIAL,
                         .old_value = h->value, .new_value = h->value, .old_what = h->what, .new_what = h->what});
    cur_loc = (hist_loc){0};
    if (h->kind != HIST_CR3 && !vcpu_trace_stores(m->cpu, on_store, h)) {
        vcpu_untrace_stores(m->cpu);
        return vm_fail(err, VM_EIO, "cannot trace guest stores");
    }
    locate(h, &l);
    m->history = h;
    return true;
}

void history_stop(history *h)
{
    if (!h->m || h->m->history != h)
        return;
    if (h->kind != HIST_CR3)
        vcpu_untrace_stores(h->m->cpu);
    h->m->history = NULL;
}

void history_free(history *h)
{
    history_stop(h);
    free(h->v);
    *h = (history){0};
}
