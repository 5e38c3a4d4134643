#include "vmi.h"

#include "cpu.h"
#include "kstring.h"
#include "vmi_internal.h"

/* The ROM is called with GCC's regparm(3) convention: arguments in EAX, EDX, ECX, 64-bit
 * results in EDX:EAX, EBX/ESI/EDI/EBP preserved -- exactly what GCC assumes of such a
 * function pointer. */
typedef int32_t (__attribute__((regparm(3))) *vmi_init_fn)(void);
typedef uint64_t (__attribute__((regparm(3))) *vmi_get_reloc_fn)(uint32_t call);

static const struct vmi_rom_header *rom;
static bool probed, active;
static unsigned kernel_ring;
static struct vmi_reloc relocs[VMI_NUM_CALLS]; /* all NONE until vmi_init succeeds */
static bool queried[VMI_NUM_CALLS];             /* asked for since Init */

static const char *const call_names[VMI_NUM_CALLS] = {
    [VMI_CALL_CPUID] = "CPUID",
    [VMI_CALL_WRMSR] = "WRMSR",
    [VMI_CALL_RDMSR] = "RDMSR",
    [VMI_CALL_SetGDT] = "SetGDT",
    [VMI_CALL_SetLDT] = "SetLDT",
    [VMI_CALL_SetIDT] = "SetIDT",
    [VMI_CALL_SetTR] = "SetTR",
    [VMI_CALL_GetGDT] = "GetGDT",
    [VMI_CALL_GetLDT] = "GetLDT",
    [VMI_CALL_GetIDT] = "GetIDT",
    [VMI_CALL_GetTR] = "GetTR",
    [VMI_CALL_WriteGDTEntry] = "WriteGDTEntry",
    [VMI_CALL_WriteLDTEntry] = "WriteLDTEntry",
    [VMI_CALL_WriteIDTEntry] = "WriteIDTEntry",
    [VMI_CALL_UpdateKernelStack] = "UpdateKernelStack",
    [VMI_CALL_SetCR0] = "SetCR0",
    [VMI_CALL_SetCR2] = "SetCR2",
    [VMI_CALL_SetCR3] = "SetCR3",
    [VMI_CALL_SetCR4] = "SetCR4",
    [VMI_CALL_GetCR0] = "GetCR0",
    [VMI_CALL_GetCR2] = "GetCR2",
    [VMI_CALL_GetCR3] = "GetCR3",
    [VMI_CALL_GetCR4] = "GetCR4",
    [VMI_CALL_WBINVD] = "WBINVD",
    [VMI_CALL_SetDR] = "SetDR",
    [VMI_CALL_GetDR] = "GetDR",
    [VMI_CALL_RDPMC] = "RDPMC",
    [VMI_CALL_RDTSC] = "RDTSC",
    [VMI_CALL_CLTS] = "CLTS",
    [VMI_CALL_EnableInterrupts] = "EnableInterrupts",
    [VMI_CALL_DisableInterrupts] = "DisableInterrupts",
    [VMI_CALL_GetInterruptMask] = "GetInterruptMask",
    [VMI_CALL_SetInterruptMask] = "SetInterruptMask",
    [VMI_CALL_IRET] = "IRET",
    [VMI_CALL_SYSEXIT] = "SYSEXIT",
    [VMI_CALL_Halt] = "Halt",
    [VMI_CALL_Reboot] = "Reboot",
    [VMI_CALL_Shutdown] = "Shutdown",
    [VMI_CALL_SetPxE] = "SetPxE",
    [VMI_CALL_SetPxELong] = "SetPxELong",
    [VMI_CALL_UpdatePxE] = "UpdatePxE",
    [VMI_CALL_UpdatePxELong] = "UpdatePxELong",
    [VMI_CALL_MachineToPhysical] = "MachineToPhysical",
    [VMI_CALL_PhysicalToMachine] = "PhysicalToMachine",
    [VMI_CALL_AllocatePage] = "AllocatePage",
    [VMI_CALL_ReleasePage] = "ReleasePage",
    [VMI_CALL_InvalPage] = "InvalPage",
    [VMI_CALL_FlushTLB] = "FlushTLB",
    [VMI_CALL_SetLinearMapping] = "SetLinearMapping",
    [VMI_CALL_SetIOPLMask] = "SetIOPLMask",
    [VMI_CALL_SetInitialAPState] = "SetInitialAPState",
    [VMI_CALL_APICWrite] = "APICWrite",
    [VMI_CALL_APICRead] = "APICRead",
    [VMI_CALL_IODelay] = "IODelay",
    [VMI_CALL_GetCycleFrequency] = "GetCycleFrequency",
    [VMI_CALL_GetCycleCounter] = "GetCycleCounter",
    [VMI_CALL_SetAlarm] = "SetAlarm",
    [VMI_CALL_CancelAlarm] = "CancelAlarm",
    [VMI_CALL_GetWallclockTime] = "GetWallclockTime",
    [VMI_CALL_WallclockUpdated] = "WallclockUpdated",
    [VMI_CALL_SetLazyMode] = "SetLazyMode",
};

/* Linux 2.6.22+ refuses any other license string (2.6.21 only tainted the kernel). */
static bool license_ok(const char *s) { return !strcmp(s, "GPL") || !strcmp(s, "GPL v2"); }

static bool rom_acceptable(const struct vmi_rom_header *h)
{
    const uint8_t *bytes = (const uint8_t *)h;
    return bytes[0] == 0x55 && bytes[1] == 0xAA && h->vrom_signature == VMI_SIGNATURE &&
           h->api_version_maj == VMI_API_MAJOR && /* any minor: unsigned, so >= 0 */
           h->pci_header_offs != 0 && license_ok((const char *)bytes + h->license_offs);
}

const struct vmi_rom_header *vmi_probe(void)
{
    if (probed)
        return rom;
    probed = true;
    for (uint32_t base = VMI_SCAN_START; base < VMI_SCAN_END; base += VMI_SCAN_STEP) {
        const struct vmi_rom_header *h = (const struct vmi_rom_header *)(uintptr_t)base;
        if (rom_acceptable(h)) {
            rom = h;
            break;
        }
    }
    return rom;
}

const struct vmi_rom_header *vmi_rom(void) { return rom; }
uint32_t vmi_rom_base(void) { return (uint32_t)(uintptr_t)rom; }
uint32_t vmi_rom_size(void) { return rom ? rom->rom_length * 512u : 0; }

/* A string at a 16-bit offset from the ROM start inside the "$PnP" header field `field`. */
static const char *pnp_string(unsigned field)
{
    if (!rom || !rom->pnp_header_offs)
        return NULL;
    const uint8_t *pnp = (const uint8_t *)rom + rom->pnp_header_offs;
    if (memcmp(pnp, "$PnP", 4))
        return NULL;
    const uint16_t off = (uint16_t)(pnp[field] | pnp[field + 1] << 8);
    return off ? (const char *)rom + off : NULL;
}

const char *vmi_pnp_manufacturer(void) { return pnp_string(0x0E); }
const char *vmi_pnp_product(void) { return pnp_string(0x10); }

int32_t vmi_activate(void)
{
    if (!vmi_probe())
        return -1;
    const int32_t rc = ((vmi_init_fn)(uintptr_t)rom->init_entry)();
    /* Init may have moved us to ring 1: whatever CS says now is the kernel's ring. */
    kernel_ring = read_cs() & 3;
    active = rc == 0;
    return rc;
}

/* GetRelocationInfo through header `h`: EAX = call number in, EDX:EAX out (DL = type). */
static struct vmi_reloc ask_reloc(const struct vmi_rom_header *h, unsigned num)
{
    const uint64_t r = ((vmi_get_reloc_fn)(uintptr_t)h->get_reloc_entry)(num);
    return (struct vmi_reloc){(uint32_t)r, (uint8_t)(r >> 32)};
}

struct vmi_reloc vmi_query_reloc(unsigned num)
{
    if (!active || num >= VMI_NUM_CALLS)
        return (struct vmi_reloc){0, VMI_RELOC_NONE};
    relocs[num] = ask_reloc(rom, num);
    queried[num] = true;
    if (num == VMI_CALL_IRET || num == VMI_CALL_SYSEXIT)
        vmi_entry_update();
    return relocs[num];
}

int32_t vmi_init(void)
{
    const int32_t rc = vmi_activate();
    if (rc != 0)
        return rc;
    for (unsigned n = 0; n < VMI_NUM_CALLS; n++)
        vmi_query_reloc(n);
    return 0;
}

int vmi_use_alias(uint32_t offset)
{
    if (!active)
        return -1;
    const struct vmi_rom_header *alias =
        (const struct vmi_rom_header *)(uintptr_t)(vmi_rom_base() + offset);
    if (!rom_acceptable(alias))
        return -1;
    int mismatches = 0;
    for (unsigned n = 0; n < VMI_NUM_CALLS; n++) {
        if (!queried[n])
            continue;
        const struct vmi_reloc old = relocs[n], now = ask_reloc(alias, n);
        const bool has_addr = old.type == VMI_RELOC_CALL_REL || old.type == VMI_RELOC_JUMP_REL;
        if (now.type != old.type || (has_addr && now.addr != old.addr + offset))
            mismatches++;
        relocs[n] = now;
    }
    rom = alias;
    vmi_entry_update();
    return mismatches;
}

bool vmi_active(void) { return active; }
unsigned vmi_kernel_ring(void) { return kernel_ring; }

struct vmi_reloc vmi_get_reloc(unsigned num)
{
    if (num >= VMI_NUM_CALLS)
        return (struct vmi_reloc){0, VMI_RELOC_NONE};
    return relocs[num];
}

bool vmi_has(unsigned num) { return num < VMI_NUM_CALLS && relocs[num].type == VMI_RELOC_CALL_REL; }

const char *vmi_call_name(unsigned num) { return num < VMI_NUM_CALLS ? call_names[num] : NULL; }

const char *vmi_reloc_type_name(uint8_t type)
{
    static const char *const names[] = {"NONE", "CALL_REL", "JUMP_REL", "NOP"};
    return type < 4 ? names[type] : "invalid";
}
