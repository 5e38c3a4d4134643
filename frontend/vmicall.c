#include "frontend/vmicall.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "emu/evlog.h"
#include "rom/rom.h"

bool vmicall_number(const char *t, uint16_t *num, vm_error *err)
{
    const rom_call *c = rom_call_by_name(t);
    char *end;
    errno = 0;
    unsigned long n = *t >= '0' && *t <= '9' ? strtoul(t, &end, 0) : 0;
    if (c == &rom_entry_init)
        *num = EV_NUM_INIT;
    else if (c == &rom_entry_reloc)
        *num = EV_NUM_RELOC;
    else if (c)
        *num = c->num;
    else if (*t >= '0' && *t <= '9' && !*end && !errno && n < ROM_NUM_CALLS && rom_call_find((uint32_t)n))
        *num = (uint16_t)n;
    else
        return vm_fail(err, VM_EINVAL, "'%s' is not a VMI call name or number", t);
    return true;
}

const char *vmicall_name(uint16_t num)
{
    const rom_call *c = num == EV_NUM_INIT ? &rom_entry_init : num == EV_NUM_RELOC ? &rom_entry_reloc : rom_call_find(num);
    return c ? c->name : "undefined";
}

const char *vmicall_label(uint16_t num, char *buf, size_t len)
{
    if (num == EV_NUM_INIT || num == EV_NUM_RELOC) /* entries without a call number */
        snprintf(buf, len, "%s (rom+0x%x)", vmicall_name(num), num == EV_NUM_INIT ? 0x80u : 0x88u);
    else
        snprintf(buf, len, "%s (#%u)", vmicall_name(num), num);
    return buf;
}
