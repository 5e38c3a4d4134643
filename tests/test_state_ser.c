/* The state digest's stream (emu/state_ser.h): field by field in little-endian order, so it
 * depends on the values only, never on padding, pointers or the compiler's layout. */
#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/snapshot.h"
#include "emu/state_ser.h"
#include "support/suite_main.h"
#include "support/testutil.h"

/* Every device's state, as the machine holds it. */
typedef struct devs {
    uart com1;
    cmos rtc;
    pic pic;
    pit pit;
    apic lapic;
    acpi_pm acpi;
    alarms alarms;
    i8042 kbc;
    port92 sysctl;
    pci_bus pci;
    fwcfg fwcfg;
    pctestdev testdev;
    rom_state rom;
} devs;

enum { OUT_MAX = 16384 };

static void tx_a(void *ctx, uint8_t b) { (void)ctx; (void)b; }

/* A known state: every device initialised, some input queued, an alarm armed, a native call
 * in flight. `variant` fills the padding differently. */
static void make(devs *d, int variant)
{
    memset(d, variant ? 0xA5 : 0, sizeof *d);
    uart_init(&d->com1);
    uart_push_input(&d->com1, NULL, (const uint8_t *)"hi", 2);
    cmos_init(&d->rtc);
    pic_init(&d->pic);
    pit_init(&d->pit, 1000000);
    apic_init(&d->lapic, 0, 1000000);
    acpi_pm_init(&d->acpi);
    d->acpi.en = 0x0120;
    alarms_init(&d->alarms);
    ck_assert(alarms_set(&d->alarms, ALARM_PERIODIC, 5000, 1000));
    i8042_init(&d->kbc);
    i8042_irqs none = {{0}, {0}};
    ck_assert_uint_eq(i8042_write_data(&d->kbc, &none, 0xF2), I8042_NONE); /* identify: 3 bytes wait */
    port92_init(&d->sysctl);
    pci_init(&d->pci);
    ck_assert(!pci_write(&d->pci, 0, 4, 0x80000000u));
    d->fwcfg = (fwcfg){.selector = 5, .offset = 1};
    d->testdev = (pctestdev){.ioport_data = 0x9999};
    d->testdev.ioram[4095] = 0xAA;
    memset(&d->rom, variant ? 0xA5 : 0, sizeof d->rom);
    memset(&d->rom.pending, 0, sizeof d->rom.pending);
    d->rom.initialized = true;
    d->rom.pt_count = 3;
    memset(d->rom.linear_maps, 0, sizeof d->rom.linear_maps);
    d->rom.linear_maps[1] = (rom_linear_mapping){0xC0000000u, 16, 0x100, true};
    d->rom.lazy_mode = 1;
    memset(d->rom.ap_state, 0x11, sizeof d->rom.ap_state);
    d->rom.ap_state_apic = 0xFEE00000u;
    d->rom.ap_state_set = true;
    d->rom.npending = 1;
    d->rom.pending[0] = (rom_record){.action = ROM_ACT_NATIVE, .is_call = true, .nargs = 1, .num = 7,
                                     .eip = 0x1234, .args = {1}, .slot_pc = 0xC0100, .slot_len = 9};
}

static size_t serialise(const devs *d, uint8_t *out, uint64_t *digest)
{
    state_writer w;
    state_writer_init(&w, out, OUT_MAX);
    /* in the order of the device table (emu/devices.c), as the machine's digest has them */
    alarms_serialise(&d->alarms, &w);
    pit_serialise(&d->pit, &w);
    apic_serialise(&d->lapic, &w);
    pic_serialise(&d->pic, &w);
    uart_serialise(&d->com1, &w);
    cmos_serialise(&d->rtc, &w);
    acpi_pm_serialise(&d->acpi, &w);
    i8042_serialise(&d->kbc, &w);
    port92_serialise(&d->sysctl, &w);
    pci_serialise(&d->pci, &w);
    fwcfg_serialise(&d->fwcfg, &w);
    pctestdev_serialise(&d->testdev, &w);
    uint8_t rom[ROM_STATE_SER_MAX];
    state_put_bytes(&w, rom, rom_state_serialise(&d->rom, rom));
    uint64_t h = state_writer_finish(&w);
    if (digest)
        *digest = h;
    ck_assert_uint_le(w.total, OUT_MAX);
    return w.total;
}

/* Fill the bytes between two members (padding the compiler put there; the test checks there is
 * some, so it cannot pass vacuously). */
static void scribble(void *base, size_t from, size_t to)
{
    ck_assert_uint_gt(to, from);
    memset((uint8_t *)base + from, 0x5A, to - from);
}

START_TEST(test_integers_go_into_the_stream_little_endian_after_the_version)
{
    uint8_t out[32];
    state_writer w;
    state_writer_init(&w, out, sizeof out);
    state_put_u8(&w, 0x01);
    state_put_bool(&w, true);
    state_put_u16(&w, 0x0302);
    state_put_u32(&w, 0x07060504u);
    state_put_u64(&w, 0x0F0E0D0C0B0A0908ull);
    state_writer_finish(&w);
    const uint8_t want[] = {STATE_SER_VERSION, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    ck_assert_uint_eq(w.total, sizeof want);
    ck_assert_mem_eq(out, want, sizeof want);
}
END_TEST

START_TEST(test_the_digest_does_not_depend_on_how_the_bytes_were_split)
{
    static uint8_t data[3000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    state_writer one, many;
    state_writer_init(&one, NULL, 0);
    state_put_bytes(&one, data, sizeof data);
    state_writer_init(&many, NULL, 0);
    for (size_t i = 0; i < sizeof data; i += 13)
        state_put_bytes(&many, data + i, sizeof data - i < 13 ? sizeof data - i : 13);
    ck_assert_uint_eq(state_writer_finish(&one), state_writer_finish(&many));
}
END_TEST

START_TEST(test_devices_differing_only_in_padding_serialise_the_same)
{
    static devs a, b;
    static uint8_t sa[OUT_MAX], sb[OUT_MAX];
    make(&a, 0);
    make(&b, 1);
    /* Padding inside the structs: after the UART's registers, a PIT channel's
     * count register, the APIC's timer flag, an alarm's flag, the ROM's Init flag. */
    scribble(&b.com1, offsetof(uart, irq_level) + 1, offsetof(uart, divisor));
    scribble(&b.pit.ch[0], offsetof(pit_channel, cr) + 4, offsetof(pit_channel, cr_loaded));
    scribble(&b.lapic, offsetof(apic, timer_running) + 1, offsetof(apic, cpu_hz));
    scribble(&b.alarms.a[0], offsetof(vmi_alarm, armed) + 1, offsetof(vmi_alarm, flags));
    scribble(&b.rom, offsetof(rom_state, initialized) + 1, offsetof(rom_state, pt_count));
    /* The free parts of the UART's rings are not state either ("hi": 'h' in the RX
     * holding register, 'i' on the wire). */
    /* The free parts of the UART's rings are not state either ("hi": 'h' in the RX holding
     * register, 'i' on the wire), nor the keyboard queue's. */
    memset(b.com1.input + 2, 0x77, 16);
    memset(b.com1.input, 0x77, 1);
    memset(b.com1.rx + 1, 0x77, UART_FIFO_SIZE - 1);
    b.kbc.kbd.item[b.kbc.kbd.head + b.kbc.kbd.count] = 0x7777;
    uint64_t ha, hb;
    size_t na = serialise(&a, sa, &ha), nb = serialise(&b, sb, &hb);
    ck_assert_uint_eq(na, nb);
    ck_assert_mem_eq(sa, sb, na);
    ck_assert_uint_eq(ha, hb);
}
END_TEST

/* One field of each kind in each device, first and last fields included. */
static const struct field_case {
    const char *name;
    size_t offset;
} fields[] = {
#define F(member) {#member, offsetof(devs, member)}
    F(com1.ier), F(com1.fcr), F(com1.lsr_errors), F(com1.msr_delta), F(com1.thre_pending), F(com1.irq_level),
    F(com1.divisor), F(com1.rx[0]), F(com1.rx_count), F(com1.input[1]), F(com1.in_count), F(com1.tx_bytes),
    F(rtc.index), F(rtc.ram[0]), F(rtc.ram[127]),
    F(pic.chip[0].index), F(pic.chip[0].irr), F(pic.chip[0].imr), F(pic.chip[1].poll), F(pic.chip[1].icw4),
    F(pit.ch[0].mode), F(pit.ch[0].has_next), F(pit.ch[0].cur.n), F(pit.ch[0].cur.start), F(pit.ch[1].next.phase),
    F(pit.ch[1].paused_at), F(pit.ch[2].cr), F(pit.ch[2].cr_loaded), F(pit.ch[2].latched), F(pit.ch[2].status),
    F(pit.cpu_hz), F(pit.synced), F(pit.irq_level), F(pit.port61),
    F(lapic.id), F(lapic.svr), F(lapic.icr_hi), F(lapic.lvt[5]), F(lapic.irr[7]), F(lapic.isr[0]),
    F(lapic.timer_divide), F(lapic.timer_next), F(lapic.timer_base_count), F(lapic.timer_running), F(lapic.cpu_hz),
    F(acpi.sts), F(acpi.en), F(acpi.cnt),
    F(alarms.a[0].armed), F(alarms.a[0].flags), F(alarms.a[1].expiry), F(alarms.a[1].period), F(alarms.a[1].fired),
    F(pic.chip[0].elcr), F(pic.chip[1].elcr),
    F(kbc.status), F(kbc.ram[0]), F(kbc.ram[31]), F(kbc.outport), F(kbc.pending), F(kbc.obf), F(kbc.out),
    F(kbc.ctl.count), F(kbc.kbd.item[1]), F(kbc.kbd.count), F(kbc.kbd_cmd), F(kbc.kbd_scanning), F(kbc.kbd_set),
    F(kbc.kbd_leds), F(kbc.kbd_rate),
    F(sysctl.value), F(pci.address), F(pci.rcr), F(pci.bridge[0]), F(pci.bridge[255]),
    F(rom.initialized), F(rom.pt_count), F(rom.linear_maps[3].set), F(rom.lazy_mode), F(rom.ap_state[91]),
    F(rom.ap_state_apic), F(rom.ap_state_set), F(rom.npending), F(rom.pending[0].action), F(rom.pending[0].error), F(rom.pending[0].num),
    F(rom.pending[0].result), F(rom.pending[0].out[10]), F(rom.pending[0].slot_len),
#undef F
};

START_TEST(test_changing_any_serialised_field_changes_the_digest)
{
    static devs base, d;
    static uint8_t out[OUT_MAX];
    make(&base, 0);
    uint64_t h0, h;
    serialise(&base, out, &h0);
    d = base;
    ((uint8_t *)&d)[fields[_i].offset] ^= 1;
    serialise(&d, out, &h);
    ck_assert_msg(h != h0, "changing %s left the digest as it was", fields[_i].name);
}
END_TEST

/* The stream of make(…, 0), pinned: a change here must move STATE_SER_VERSION (and REC_VERSION). */
static const char known_stream[] =
#include "state_ser_known.inc"
    ;

static int hexval(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

START_TEST(test_a_known_state_serialises_to_the_checked_in_bytes)
{
    static devs d;
    static uint8_t out[OUT_MAX], want[OUT_MAX];
    make(&d, 0);
    size_t n = serialise(&d, out, NULL);
    if (getenv("STATE_SER_DUMP")) /* prints the stream, to update the .inc deliberately */
        for (size_t i = 0; i < n; i++)
            printf("%s%02x%s", i % 32 ? "" : "    \"", out[i], i % 32 == 31 || i + 1 == n ? "\"\n" : "");
    fflush(stdout);
    size_t len = strlen(known_stream) / 2;
    for (size_t i = 0; i < len; i++)
        want[i] = (uint8_t)(hexval(known_stream[2 * i]) << 4 | hexval(known_stream[2 * i + 1]));
    ck_assert_uint_eq(n, len);
    ck_assert_mem_eq(out, want, n);
}
END_TEST

static tu_machine *ma;

static void machine_setup(void) { ma = calloc(1, sizeof *ma); }

static void machine_teardown(void)
{
    machine_free(&ma->m);
    free(ma);
}

START_TEST(test_a_machine_digest_ignores_wiring_padding_and_free_buffers_but_not_devices)
{
    machine_config c;
    machine_config_defaults(&c);
    c.ram_mib = 16;
    vm_error err = {0};
    ck_assert_msg(machine_init(&ma->m, &c, tu_kernel("hello"), &err), "%s", err.msg);
    machine_set_serial_out(&ma->m, NULL, NULL);
    ck_assert_int_eq(machine_run_until(&ma->m, 2000), END_RUNNING);
    uint64_t h0 = machine_state_hash(&ma->m);
    uart saved = ma->m.com1;
    int other;
    machine_set_serial_out(&ma->m, tx_a, &other); /* where output goes is the frontend's */
    ck_assert_uint_eq(machine_state_hash(&ma->m), h0);
    ck_assert_uint_eq(ma->m.com1.in_count, 0);
    ma->m.com1.input[UART_INPUT_MAX - 1] ^= 0xFF; /* the ring's free part: no state */
    ck_assert_uint_eq(machine_state_hash(&ma->m), h0);
    rom_state rom = ma->m.rom;
    scribble(&ma->m.rom, offsetof(rom_state, initialized) + 1, offsetof(rom_state, pt_count));
    ck_assert_uint_eq(machine_state_hash(&ma->m), h0);
    ma->m.rom = rom;
    ma->m.com1 = saved;
    ma->m.pic.chip[PIC_MASTER].imr ^= 0x80;
    ck_assert_uint_ne(machine_state_hash(&ma->m), h0);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("state_ser");
    TCase *tc = tcase_create("stream");
    tcase_add_test(tc, test_integers_go_into_the_stream_little_endian_after_the_version);
    tcase_add_test(tc, test_the_digest_does_not_depend_on_how_the_bytes_were_split);
    tcase_add_test(tc, test_devices_differing_only_in_padding_serialise_the_same);
    tcase_add_loop_test(tc, test_changing_any_serialised_field_changes_the_digest, 0,
                        (int)(sizeof fields / sizeof fields[0]));
    tcase_add_test(tc, test_a_known_state_serialises_to_the_checked_in_bytes);
    suite_add_tcase(s, tc);
    TCase *tm = tcase_create("machine");
    tcase_add_checked_fixture(tm, machine_setup, machine_teardown);
    tcase_add_test(tm, test_a_machine_digest_ignores_wiring_padding_and_free_buffers_but_not_devices);
    suite_add_tcase(s, tm);
    return s;
}

SUITE_MAIN(make_suite)
