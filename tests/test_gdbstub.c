/* The GDB stub without sockets: packets fed to a stub over a real machine booted in-process
 * (the hello kernel), replies read back byte for byte. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/debug.h"
#include "frontend/gdbserver.h"
#include "frontend/gdbstub.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define MULTIBOOT_HEADER 0x00100000u /* hello's .multiboot section */
#define PROBED_FLAG_SIZE 1

static tu_machine *t;
static dbg d;
static gdbstub *s;
static vm_error err;
static char out[1 << 16]; /* everything the stub sent for the last input */

/* ---- Symbols from hello.elf, so the tests follow the kernel as it is built. */

static uint32_t sym(const char *name)
{
    FILE *f = fopen(tu_kernel("hello"), "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *elf = malloc((size_t)size);
    ck_assert_uint_eq(fread(elf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
#define U32(off) ((uint32_t)elf[off] | (uint32_t)elf[(off) + 1] << 8 | (uint32_t)elf[(off) + 2] << 16 | (uint32_t)elf[(off) + 3] << 24)
#define U16(off) ((uint32_t)elf[off] | (uint32_t)elf[(off) + 1] << 8)
    uint32_t shoff = U32(0x20), shentsize = U16(0x2E), shnum = U16(0x30), value = 0;
    for (uint32_t i = 0; i < shnum && !value; i++) {
        uint32_t sh = shoff + i * shentsize;
        if (U32(sh + 4) != 2) /* SHT_SYMTAB */
            continue;
        uint32_t off = U32(sh + 16), len = U32(sh + 20), strsh = shoff + U32(sh + 24) * shentsize;
        const char *strtab = (const char *)elf + U32(strsh + 16);
        for (uint32_t k = off; k + 16 <= off + len; k += 16)
            if (strcmp(strtab + U32(k), name) == 0)
                value = U32(k + 4);
    }
#undef U32
#undef U16
    free(elf);
    ck_assert_msg(value, "no symbol %s in hello.elf", name);
    return value;
}

/* ---- Driving the stub */

static void setup_with(uint64_t snap_every)
{
    t = calloc(1, sizeof *t);
    memset(&err, 0, sizeof err);
    machine_config c;
    machine_config_defaults(&c);
    c.ram_mib = 16;
    c.snap_every = snap_every;
    ck_assert_msg(machine_init(&t->m, &c, tu_kernel("hello"), &err), "%s", err.msg);
    machine_set_serial_out(&t->m, NULL, NULL);
    dbg_init(&d, &t->m);
    s = gdbstub_new(&d);
    ck_assert_ptr_nonnull(s);
}

static void setup(void) { setup_with(4000); }

/* callloop's interrupt-flag loop with --quiet-calls irqflags: its calls run as plain code. */
static void setup_quiet(void)
{
    t = calloc(1, sizeof *t);
    memset(&err, 0, sizeof err);
    machine_config c;
    machine_config_defaults(&c);
    c.ram_mib = 16;
    c.cmdline = "iters=20 irqflags";
    c.quiet_calls = MACHINE_QUIET_IRQFLAGS;
    ck_assert_msg(machine_init(&t->m, &c, tu_kernel("callloop"), &err), "%s", err.msg);
    machine_set_serial_out(&t->m, NULL, NULL);
    dbg_init(&d, &t->m);
    s = gdbstub_new(&d);
    ck_assert_ptr_nonnull(s);
}
static void setup_no_snapshots(void) { setup_with(0); }

static void teardown(void)
{
    gdbstub_free(s);
    machine_free(&t->m);
    free(t);
}

/* Take what the stub has sent so far into `out`. */
static const char *drain(void)
{
    size_t n;
    const uint8_t *p = gdbstub_output(s, &n);
    ck_assert_uint_lt(n, sizeof out);
    memcpy(out, p, n);
    out[n] = 0;
    gdbstub_consume(s, n);
    return out;
}

static void feed_raw(const char *bytes)
{
    gdbstub_feed(s, (const uint8_t *)bytes, strlen(bytes));
}

static void feed_packet(const char *data)
{
    char buf[8192];
    unsigned sum = 0;
    for (const char *p = data; *p; p++)
        sum += (uint8_t)*p;
    snprintf(buf, sizeof buf, "$%s#%02x", data, sum & 0xFF);
    feed_raw(buf);
}

/* The payload of the one packet in `wire`, its framing and checksum checked. */
static const char *payload(const char *wire)
{
    static char data[1 << 16];
    const char *dollar = strchr(wire, '$'), *hash = dollar ? strchr(dollar, '#') : NULL;
    ck_assert_msg(dollar && hash && strlen(hash) >= 3, "not a packet: %s", wire);
    unsigned sum = 0, cs = 0;
    for (const char *p = dollar + 1; p < hash; p++)
        sum += (uint8_t)*p;
    ck_assert_int_eq(sscanf(hash + 1, "%2x", &cs), 1);
    ck_assert_uint_eq(sum & 0xFF, cs);
    size_t n = (size_t)(hash - dollar - 1);
    memcpy(data, dollar + 1, n);
    data[n] = 0;
    return data;
}

/* Send one packet (acks on), expect a `+` and one reply; return its payload. */
static const char *ask(const char *packet)
{
    feed_packet(packet);
    const char *w = drain();
    ck_assert_msg(w[0] == '+', "no ack for %s: %s", packet, w);
    return payload(w + 1);
}

static uint32_t hex_le32(const char *p)
{
    unsigned b[4];
    ck_assert_int_eq(sscanf(p, "%2x%2x%2x%2x", &b[0], &b[1], &b[2], &b[3]), 4);
    return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint32_t eip(void) { return dbg_reg(&d, CPU_EIP); }

static void break_at(uint32_t addr)
{
    char p[64];
    snprintf(p, sizeof p, "Z0,%x,1", addr);
    ck_assert_str_eq(ask(p), "OK");
}

/* ---- Framing */

START_TEST(test_a_good_packet_is_acked_and_a_bad_checksum_is_refused)
{
    feed_raw("$qC#b4");
    ck_assert_str_eq(drain(), "+$QC1#c5");
    feed_raw("$qC#00");
    ck_assert_str_eq(drain(), "-");
    ck_assert_str_eq(ask("qC"), "QC1"); /* the connection carries on */
}
END_TEST

START_TEST(test_a_nak_resends_the_last_reply)
{
    ck_assert_str_eq(ask("qAttached"), "1");
    feed_raw("-");
    ck_assert_str_eq(drain(), "$1#31");
}
END_TEST

START_TEST(test_no_ack_mode_stops_the_acks)
{
    ck_assert_str_eq(ask("QStartNoAckMode"), "OK");
    feed_raw("+");
    feed_packet("qC");
    ck_assert_str_eq(drain(), "$QC1#c5");
    feed_raw("-"); /* no resending either */
    ck_assert_str_eq(drain(), "");
}
END_TEST

START_TEST(test_a_packet_cut_short_by_another_is_dropped)
{
    feed_raw("$m100000,4");
    feed_packet("qC");
    ck_assert_str_eq(payload(drain()), "QC1");
}
END_TEST

START_TEST(test_a_packet_split_across_feeds_is_reassembled)
{
    feed_raw("$q");
    ck_assert_str_eq(drain(), "");
    feed_raw("C#b");
    feed_raw("4");
    ck_assert_str_eq(drain(), "+$QC1#c5");
}
END_TEST

START_TEST(test_random_bytes_never_break_the_stub)
{
    uint32_t x = 12345;
    uint8_t noise[4096];
    const char alphabet[] = "$#}*+-0123456789abcdefmMgGpPXZzqQv:,;?\x03";
    for (int round = 0; round < 16; round++) {
        for (size_t i = 0; i < sizeof noise; i++) {
            x = x * 1103515245u + 12345u;
            noise[i] = (x >> 16) & 1 ? (uint8_t)(x >> 24) : (uint8_t)alphabet[(x >> 24) % (sizeof alphabet - 1)];
        }
        gdbstub_feed(s, noise, sizeof noise);
        drain();
    }
    ck_assert_int_eq(gdbstub_get_state(s), GDBSTUB_ACTIVE);
    feed_raw("$"); /* whatever was half read is dropped */
    feed_packet("qC");
    const char *w = drain();
    ck_assert_msg(strstr(w, "$QC1#c5") != NULL, "%s", w);
}
END_TEST

/* A packet longer than the stub's buffer is refused whole (NAK, nothing run), never grown. */
START_TEST(test_a_packet_longer_than_the_packet_size_is_refused)
{
    size_t n = GDBSTUB_PACKET_SIZE + 4096;
    char *big = malloc(n + 8);
    unsigned sum = 0;
    big[0] = '$';
    big[1] = 'M'; /* a memory write that would be harmless if it ran */
    for (size_t i = 2; i <= n; i++)
        big[i] = '0';
    for (size_t i = 1; i <= n; i++)
        sum += (uint8_t)big[i];
    snprintf(big + n + 1, 7, "#%02x", sum & 0xFF);
    gdbstub_feed(s, (const uint8_t *)big, strlen(big));
    free(big);
    const char *w = drain();
    ck_assert_msg(strcmp(w, "-") == 0, "%s", w);
    ck_assert_str_eq(ask("qC"), "QC1"); /* the next packet is read as usual */
}
END_TEST

/* ---- Queries */

START_TEST(test_qsupported_advertises_the_features_and_reverse_execution)
{
    const char *r = ask("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386");
    ck_assert_ptr_nonnull(strstr(r, "PacketSize="));
    ck_assert_ptr_nonnull(strstr(r, "qXfer:features:read+"));
    ck_assert_ptr_nonnull(strstr(r, "QStartNoAckMode+"));
    ck_assert_ptr_nonnull(strstr(r, "swbreak+"));
    ck_assert_ptr_nonnull(strstr(r, "hwbreak+"));
    ck_assert_ptr_nonnull(strstr(r, "ReverseStep+"));
    ck_assert_ptr_nonnull(strstr(r, "ReverseContinue+"));
}
END_TEST

START_TEST(test_without_snapshots_reverse_is_neither_advertised_nor_done)
{
    const char *r = ask("qSupported:swbreak+");
    ck_assert_ptr_null(strstr(r, "Reverse"));
    ck_assert_int_eq(strncmp(ask("s"), "T05thread:1;", 12), 0);
    ck_assert_uint_eq(dbg_icount(&d), 1);
    ck_assert_str_eq(ask("bs"), "");
    ck_assert_str_eq(ask("bc"), "");
}
END_TEST

START_TEST(test_target_xml_describes_the_i386_core_registers)
{
    const char *r = ask("qXfer:features:read:target.xml:0,3fff");
    ck_assert_int_eq(r[0], 'l');
    ck_assert_ptr_nonnull(strstr(r, "<architecture>i386</architecture>"));
    ck_assert_ptr_nonnull(strstr(r, "org.gnu.gdb.i386.core"));
    const char *names[] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
                           "eip", "eflags", "cs", "ss", "ds", "es", "fs", "gs"};
    const char *at = r;
    for (int i = 0; i < 16; i++) { /* in g-packet order */
        char want[64];
        snprintf(want, sizeof want, "<reg name=\"%s\" bitsize=\"32\"", names[i]);
        at = strstr(at, want);
        ck_assert_msg(at != NULL, "%s missing or out of order", names[i]);
    }
    /* In pieces: m while more follows, l for the last. */
    ck_assert_int_eq(ask("qXfer:features:read:target.xml:0,10")[0], 'm');
    ck_assert_str_eq(ask("qXfer:features:read:target.xml:fffff,10"), "l");
    ck_assert_str_eq(ask("qXfer:features:read:other.xml:0,10"), "E00");
}
END_TEST

START_TEST(test_thread_and_offset_queries_describe_one_thread)
{
    ck_assert_str_eq(ask("qC"), "QC1");
    ck_assert_str_eq(ask("qAttached"), "1");
    ck_assert_str_eq(ask("qfThreadInfo"), "m1");
    ck_assert_str_eq(ask("qsThreadInfo"), "l");
    ck_assert_str_eq(ask("Hg0"), "OK");
    ck_assert_str_eq(ask("Hc-1"), "OK");
    ck_assert_str_eq(ask("qOffsets"), "Text=0;Data=0;Bss=0");
    ck_assert_str_eq(ask("vCont?"), "vCont;c;C;s;S");
}
END_TEST

START_TEST(test_an_unknown_packet_gets_an_empty_reply)
{
    ck_assert_str_eq(ask("qTStatus"), "");
    ck_assert_str_eq(ask("vMustReplyEmpty"), "");
    ck_assert_str_eq(ask("!"), "");
}
END_TEST

START_TEST(test_the_monitor_tells_the_instruction_count)
{
    feed_packet("qRcmd,69636f756e74"); /* "icount" */
    const char *w = drain();
    ck_assert_ptr_nonnull(strstr(w, "$O69636f756e7420300a#")); /* "icount 0\n" */
    ck_assert_ptr_nonnull(strstr(w, "$OK#9a"));
}
END_TEST

/* ---- Registers and memory */

START_TEST(test_g_returns_sixteen_registers_with_eip_at_the_entry)
{
    const char *r = ask("g");
    ck_assert_uint_eq(strlen(r), 16 * 8);
    ck_assert_uint_eq(hex_le32(r + 0 * 8), 0x2BADB002u); /* EAX: the Multiboot magic */
    ck_assert_uint_eq(hex_le32(r + 8 * 8), t->m.boot.entry);
    ck_assert_uint_eq(hex_le32(r + 8 * 8), sym("_start"));
    ck_assert_uint_eq(hex_le32(r + 10 * 8), dbg_reg(&d, CPU_CS));
    ck_assert_str_eq(ask("?"), "T05thread:1;");
}
END_TEST

START_TEST(test_G_writes_the_registers_that_changed)
{
    char g[256];
    snprintf(g, sizeof g, "G%s", ask("g"));
    memcpy(g + 1 + 2 * 8, "78563412", 8); /* EDX */
    ck_assert_str_eq(ask(g), "OK");
    ck_assert_uint_eq(dbg_reg(&d, CPU_EDX), 0x12345678u);
    ck_assert_str_eq(ask("G0011"), "E01");
}
END_TEST

START_TEST(test_p_and_P_read_and_write_one_register)
{
    ck_assert_uint_eq(hex_le32(ask("p8")), sym("_start"));
    ck_assert_str_eq(ask("P0=efbeadde"), "OK");
    ck_assert_uint_eq(dbg_reg(&d, CPU_EAX), 0xDEADBEEFu);
    ck_assert_str_eq(ask("p0"), "efbeadde");
    ck_assert_str_eq(ask("p10"), "xxxxxxxxxxxxxxxxxxxx"); /* st0: named for gdb, not available */
    ck_assert_str_eq(ask("p18"), "xxxxxxxx");             /* fctrl */
    ck_assert_str_eq(ask("p20"), "E00");
    ck_assert_str_eq(ask("P10=00000000"), "E01");
}
END_TEST

START_TEST(test_m_reads_the_multiboot_header)
{
    char p[64];
    snprintf(p, sizeof p, "m%x,4", MULTIBOOT_HEADER);
    ck_assert_str_eq(ask(p), "02b0ad1b"); /* 0x1BADB002 */
    snprintf(p, sizeof p, "m%x,c", MULTIBOOT_HEADER);
    ck_assert_uint_eq(strlen(ask(p)), 24);
}
END_TEST

START_TEST(test_m_of_unreadable_memory_is_E14)
{
    ck_assert_str_eq(ask("mfffff000,10"), "E14"); /* the open bus above RAM is not memory */
    ck_assert_uint_eq(strlen(ask("mfffff0,20")), 2 * 16); /* a read running off the end of RAM is cut short */
}
END_TEST

START_TEST(test_M_and_X_write_memory)
{
    ck_assert_str_eq(ask("M300000,4:01020304"), "OK");
    ck_assert_str_eq(ask("m300000,4"), "01020304");
    /* X: binary; `}` escapes the next byte XOR 0x20, here '#' (0x23) and '}' (0x7d). */
    ck_assert_str_eq(ask("X300000,3:A}\x03}]"), "OK");
    ck_assert_str_eq(ask("m300000,4"), "41237d04");
    ck_assert_str_eq(ask("X300000,0:"), "OK");
}
END_TEST

/* A guest write to the ROM ends the run: a debugger write there is refused, the ROM unchanged. */
START_TEST(test_M_and_X_into_the_rom_are_refused)
{
    const char *before = ask("mc0000,4");
    char saved[16];
    snprintf(saved, sizeof saved, "%s", before);
    ck_assert_str_eq(ask("Mc0000,4:00000000"), "E14");
    ck_assert_str_eq(ask("Xc0002,1:A"), "E14");
    ck_assert_str_eq(ask("Mbfffe,4:00000000"), "E14"); /* straddling into the ROM */
    ck_assert_str_eq(ask("Mc8000,1:00"), "E14");       /* the BIOS hole above it */
    ck_assert_str_eq(ask("mc0000,4"), saved);
    ck_assert_str_eq(ask("Mbfff0,4:01020304"), "OK"); /* VGA memory below it is writable */
}
END_TEST

START_TEST(test_malformed_hex_is_an_error_and_the_next_packet_works)
{
    ck_assert_str_eq(ask("m10zz00,4"), "E01");
    ck_assert_str_eq(ask("m100000"), "E01");
    ck_assert_str_eq(ask("M300000,4:0102"), "E01");
    ck_assert_str_eq(ask("M300000,2:01zz"), "E01");
    ck_assert_str_eq(ask("P0=12"), "E01");
    ck_assert_str_eq(ask("Z0,12345678901,1"), "E01");
    ck_assert_str_eq(ask("m100000,4"), "02b0ad1b");
}
END_TEST

/* ---- Running */

START_TEST(test_continue_stops_at_a_breakpoint_with_swbreak)
{
    uint32_t kmain = sym("kmain");
    ask("qSupported:swbreak+;hwbreak+");
    break_at(kmain);
    char want[128];
    const char *r = ask("c");
    snprintf(want, sizeof want, "T05thread:1;swbreak:;");
    ck_assert_msg(strncmp(r, want, strlen(want)) == 0, "%s", r);
    ck_assert_uint_eq(eip(), kmain);
    ck_assert_uint_eq(hex_le32(strstr(r, "08:") + 3), kmain);
    ck_assert_str_eq(ask("?"), r); /* the last stop, again */
    ck_assert_str_eq(ask("Z0,1,1"), "OK");
    ck_assert_str_eq(ask("z0,1,1"), "OK");
}
END_TEST

START_TEST(test_a_hardware_breakpoint_reports_hwbreak)
{
    ask("qSupported:swbreak+;hwbreak+");
    char p[64];
    snprintf(p, sizeof p, "Z1,%x,1", sym("kmain"));
    ck_assert_str_eq(ask(p), "OK");
    ck_assert_str_eq(ask(p), "OK"); /* twice is still one */
    ck_assert_ptr_nonnull(strstr(ask("vCont;c"), "hwbreak:;"));
    ck_assert_uint_eq(eip(), sym("kmain"));
}
END_TEST

START_TEST(test_without_swbreak_from_gdb_no_reason_is_given)
{
    break_at(sym("kmain"));
    ck_assert_ptr_null(strstr(ask("c"), "break"));
    ck_assert_uint_eq(eip(), sym("kmain"));
}
END_TEST

START_TEST(test_a_removed_breakpoint_no_longer_stops)
{
    uint32_t kmain = sym("kmain");
    break_at(kmain);
    char p[64];
    snprintf(p, sizeof p, "z0,%x,1", kmain);
    ck_assert_str_eq(ask(p), "OK");
    ck_assert_int_eq(ask("c")[0], 'W');
}
END_TEST

START_TEST(test_s_advances_one_instruction)
{
    uint64_t before = dbg_icount(&d);
    const char *r = ask("s");
    ck_assert_int_eq(r[0], 'T');
    ck_assert_uint_eq(dbg_icount(&d), before + 1);
    ck_assert_uint_ne(eip(), sym("_start"));
    ck_assert_uint_eq(hex_le32(strstr(r, "08:") + 3), eip());
    ck_assert_int_eq(ask("vCont;s:1")[0], 'T');
    ck_assert_uint_eq(dbg_icount(&d), before + 2);
}
END_TEST

START_TEST(test_bs_goes_back_one_instruction_to_the_same_registers)
{
    break_at(sym("kmain"));
    ask("c");
    ck_assert_str_eq(ask("z0,0,1"), "OK");
    char regs[256];
    snprintf(regs, sizeof regs, "%s", ask("g"));
    uint64_t at = dbg_icount(&d);
    ask("s");
    ck_assert_uint_eq(dbg_icount(&d), at + 1);
    ck_assert_str_ne(ask("g"), regs);
    const char *r = ask("bs");
    ck_assert_int_eq(r[0], 'T');
    ck_assert_uint_eq(dbg_icount(&d), at);
    ck_assert_str_eq(ask("g"), regs);
}
END_TEST

START_TEST(test_bs_at_the_start_reports_the_beginning_of_history)
{
    ck_assert_ptr_nonnull(strstr(ask("bs"), "replaylog:begin;"));
    ck_assert_uint_eq(dbg_icount(&d), 0);
}
END_TEST

START_TEST(test_bc_after_two_breakpoint_hits_lands_on_the_earlier_one)
{
    ask("qSupported:swbreak+");
    uint32_t rdtsc = sym("vmi_rdtsc");
    break_at(rdtsc);
    ck_assert_ptr_nonnull(strstr(ask("c"), "swbreak:;"));
    uint64_t first = dbg_icount(&d);
    ck_assert_ptr_nonnull(strstr(ask("c"), "swbreak:;"));
    uint64_t second = dbg_icount(&d);
    ck_assert_uint_gt(second, first);
    ck_assert_ptr_nonnull(strstr(ask("bc"), "swbreak:;"));
    ck_assert_uint_eq(dbg_icount(&d), first);
    ck_assert_uint_eq(eip(), rdtsc);
    ck_assert_ptr_nonnull(strstr(ask("bc"), "replaylog:begin;"));
    ck_assert_uint_eq(dbg_icount(&d), 0);
}
END_TEST

START_TEST(test_a_write_watchpoint_stops_with_watch_and_the_address)
{
    uint32_t probed = sym("probed"); /* a bss flag vmi_probe sets */
    char p[64], want[64];
    snprintf(p, sizeof p, "Z2,%x,%x", probed, PROBED_FLAG_SIZE);
    ck_assert_str_eq(ask(p), "OK");
    snprintf(want, sizeof want, "T05thread:1;watch:%x;", probed);
    const char *r = ask("c");
    ck_assert_msg(strncmp(r, want, strlen(want)) == 0, "%s", r);
    ck_assert_uint_eq(dbg_icount(&d), t->m.watch.icount); /* just after the writing instruction */
    snprintf(p, sizeof p, "m%x,1", probed);
    ck_assert_str_eq(ask(p), "01");
    snprintf(p, sizeof p, "z2,%x,%x", probed, PROBED_FLAG_SIZE);
    ck_assert_str_eq(ask(p), "OK");
}
END_TEST

START_TEST(test_read_and_access_watchpoints_stop_with_their_kind)
{
    /* hello's ROM probe reads the option-ROM signature at 0xC0000 (paging is off). */
    ck_assert_str_eq(ask("Z3,c0000,2"), "OK");
    const char *r = ask("c");
    ck_assert_msg(strncmp(r, "T05thread:1;rwatch:c0000;", 25) == 0, "%s", r);
    ck_assert_str_eq(ask("z3,c0000,2"), "OK");
    uint32_t probed = sym("probed");
    char p[64], want[64];
    snprintf(p, sizeof p, "Z4,%x,%x", probed, PROBED_FLAG_SIZE);
    ck_assert_str_eq(ask(p), "OK");
    snprintf(want, sizeof want, "T05thread:1;awatch:%x;", probed);
    r = ask("c");
    ck_assert_msg(strncmp(r, want, strlen(want)) == 0, "%s", r);
}
END_TEST

/* The poll hook plays the transport. It is called once as the run starts (to send the ack)
 * and then after each slice; here a Ctrl-C arrives after the first slice. */
static int polls;
static void ctrl_c_after_first_slice(void *ctx)
{
    (void)ctx;
    if (polls++ == 1)
        gdbstub_feed(s, (const uint8_t *)"\x03", 1);
}

START_TEST(test_ctrl_c_while_continuing_stops_with_T02)
{
    polls = 0;
    gdbstub_set_slice(s, 1000);
    gdbstub_set_poll(s, ctrl_c_after_first_slice, NULL);
    const char *r = ask("c");
    ck_assert_msg(strncmp(r, "T02thread:1;", 12) == 0, "%s", r);
    ck_assert_uint_eq(dbg_icount(&d), 1000); /* stopped at the end of the slice it arrived in */
    ck_assert_int_eq(t->m.end, END_RUNNING);
    ck_assert(!gdbstub_running(s));
}
END_TEST

START_TEST(test_ctrl_c_queued_behind_continue_stops_before_running)
{
    feed_raw("$c#63\x03"); /* both in one read */
    const char *w = drain();
    ck_assert_msg(strncmp(w, "+$T02", 5) == 0, "%s", w);
    ck_assert_uint_eq(dbg_icount(&d), 0);
    ck_assert_str_eq(ask("qC"), "QC1");
}
END_TEST

START_TEST(test_ctrl_c_while_stopped_is_ignored)
{
    feed_raw("\x03");
    ck_assert_str_eq(drain(), "");
    ck_assert_str_eq(ask("qC"), "QC1");
}
END_TEST

static void hang_up_after_first_slice(void *ctx)
{
    (void)ctx;
    if (polls++ == 1)
        gdbstub_hangup(s);
}

START_TEST(test_a_hangup_while_running_stops_the_guest)
{
    gdbstub_set_slice(s, 1000);
    polls = 0;
    gdbstub_set_poll(s, hang_up_after_first_slice, NULL);
    feed_packet("c");
    ck_assert_uint_eq(dbg_icount(&d), 1000);
    ck_assert_int_eq(gdbstub_get_state(s), GDBSTUB_HUNGUP);
}
END_TEST

START_TEST(test_the_guest_ending_is_reported_as_W_with_its_exit_status)
{
    ck_assert_str_eq(ask("c"), "W10"); /* hello passes: exit port value 0x10 */
    ck_assert_int_eq(t->m.end, END_EXIT_PORT);
    ck_assert_str_eq(ask("?"), "W10");
}
END_TEST

START_TEST(test_detach_and_kill_end_the_session)
{
    ck_assert_str_eq(ask("D"), "OK");
    ck_assert_int_eq(gdbstub_get_state(s), GDBSTUB_DETACHED);
    feed_packet("qC"); /* nothing more is served */
    ck_assert_str_eq(drain(), "");
}
END_TEST

START_TEST(test_kill_ends_the_session_without_a_reply)
{
    feed_packet("k");
    ck_assert_str_eq(drain(), "+");
    ck_assert_int_eq(gdbstub_get_state(s), GDBSTUB_KILLED);
}
END_TEST

/* ---- Monitor commands: VMI-call breakpoints and vmiemu's backtrace */

/* Send `monitor CMD`; return the console text of every O packet before the final reply (which
 * is `last`). */
static const char *monitor_with(const char *cmd, const char *packet_after)
{
    static char text[1 << 14];
    char pkt[1024] = "qRcmd,";
    for (const char *c = cmd; *c; c++)
        snprintf(pkt + strlen(pkt), sizeof pkt - strlen(pkt), "%02x", (uint8_t)*c);
    feed_packet(packet_after ? packet_after : pkt);
    const char *w = drain();
    size_t k = 0;
    text[0] = 0;
    for (const char *o = strstr(w, "$O"); o && o[2] != 'K'; o = strstr(o + 1, "$O")) {
        for (const char *h = o + 2; *h != '#' && k + 1 < sizeof text; h += 2) {
            unsigned b;
            ck_assert_int_eq(sscanf(h, "%2x", &b), 1);
            text[k++] = (char)b;
        }
        text[k] = 0;
    }
    return text;
}

static const char *monitor(const char *cmd) { return monitor_with(cmd, NULL); }

START_TEST(test_monitor_break_vmi_stops_before_the_call_without_a_breakpoint_reason)
{
    ask("qSupported:swbreak+;hwbreak+");
    ck_assert_str_eq(monitor("break vmi RDTSC"), "VMI breakpoint 1 before VMI call RDTSC (#27)\n");
    ck_assert_str_eq(monitor_with("", "c"), "VMI breakpoint 1, VMI call RDTSC (#27) at eip 0x000c0460\n");
    const char *stop = ask("?");
    ck_assert_msg(strncmp(stop, "T05thread:1;04:", 15) == 0, "%s", stop); /* no swbreak: gdb would ignore it */
    ck_assert_ptr_nonnull(d.last_hit);
    ck_assert_int_eq(d.last_hit->kind, DBG_VMI_BREAK);
}
END_TEST

START_TEST(test_monitor_break_vmi_stops_at_a_quiet_call)
{
    ck_assert_str_eq(monitor("break vmi DisableInterrupts"),
                     "VMI breakpoint 1 before VMI call DisableInterrupts (#30)\n");
    for (int i = 0; i < 2; i++)
        ck_assert_str_eq(monitor_with("", "c"),
                         "VMI breakpoint 1, VMI call DisableInterrupts (#30) at eip 0x000c04c0\n");
    for (size_t i = 0; i < evlog_count(&t->m.log); i++) /* stopped at, never logged */
        ck_assert(!(tu_event(&t->m.log, i)->kind == EV_VMI_CALL && tu_event(&t->m.log, i)->num == 30));
}
END_TEST

START_TEST(test_monitor_delete_removes_only_a_vmi_breakpoint)
{
    break_at(sym("kmain"));
    ck_assert_str_eq(monitor("break vmi 38"), "VMI breakpoint 2 before VMI call SetPxE (#38)\n");
    ck_assert_str_eq(monitor("info vmi"), "2  before VMI call SetPxE (hit 0 times)\n");
    ck_assert_ptr_nonnull(strstr(monitor("delete 1"), "No VMI breakpoint 1"));
    ck_assert_str_eq(monitor("delete 2"), "Deleted VMI breakpoint 2\n");
    ck_assert_str_eq(monitor("info vmi"), "No VMI-call breakpoints.\n");
    ck_assert_uint_eq(d.points[0].id, 1); /* gdb's breakpoint stays */
}
END_TEST

START_TEST(test_monitor_refuses_an_unknown_vmi_call_and_explains_itself)
{
    ck_assert_str_eq(monitor("break vmi NoSuchCall"), "'NoSuchCall' is not a VMI call name or number\n");
    ck_assert_ptr_nonnull(strstr(monitor("frobnicate"), "break vmi NAME|NUMBER"));
    for (int i = 0; i < DBG_MAX_POINTS; i++)
        ck_assert_int_eq(d.points[i].id, 0);
}
END_TEST

START_TEST(test_detach_drops_the_monitors_vmi_breakpoints)
{
    monitor("break vmi RDTSC");
    ck_assert_str_eq(ask("D"), "OK");
    for (int i = 0; i < DBG_MAX_POINTS; i++)
        ck_assert_int_eq(d.points[i].id, 0);
}
END_TEST

START_TEST(test_monitor_bt_names_the_frames_with_the_kernels_symbols)
{
    symtab syms;
    symtab_load(&syms, t->m.kernel, t->m.kernel_size);
    gdbstub_set_symbols(s, &syms);
    break_at(sym("kmain"));
    ask("c");
    const char *bt = monitor("bt");
    ck_assert_msg(strncmp(bt, "#0  0x", 6) == 0 && strstr(bt, " <kmain>\n"), "%s", bt);
    ck_assert_msg(strstr(bt, "#1  0x"), "%s", bt); /* kmain's caller */
    gdbstub_set_symbols(s, NULL);
    ck_assert_ptr_null(strstr(monitor("bt"), "<kmain>"));
    symtab_free(&syms);
}
END_TEST

/* ---- The server's spec */

START_TEST(test_the_spec_defaults_to_loopback_and_refuses_names)
{
    char host[64];
    unsigned port;
    ck_assert(gdb_parse_spec("tcp:127.0.0.1:1234", host, sizeof host, &port, &err));
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_uint_eq(port, 1234);
    ck_assert(gdb_parse_spec("tcp::1234", host, sizeof host, &port, &err));
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert(gdb_parse_spec("tcp:4321", host, sizeof host, &port, &err));
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_uint_eq(port, 4321);
    ck_assert(gdb_parse_spec("tcp:localhost:1", host, sizeof host, &port, &err));
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert(gdb_parse_spec("tcp:[::1]:1234", host, sizeof host, &port, &err));
    ck_assert_str_eq(host, "::1");
    ck_assert(gdb_parse_spec("tcp:0.0.0.0:1234", host, sizeof host, &port, &err)); /* spelt out */
    ck_assert(!gdb_parse_spec("tcp:example.com:1234", host, sizeof host, &port, &err));
    ck_assert(!gdb_parse_spec("udp:127.0.0.1:1234", host, sizeof host, &port, &err));
    ck_assert(!gdb_parse_spec("tcp:127.0.0.1:65536", host, sizeof host, &port, &err));
    ck_assert(!gdb_parse_spec("tcp:127.0.0.1:", host, sizeof host, &port, &err));
    ck_assert(!gdb_parse_spec("tcp:127.0.0.1:12a", host, sizeof host, &port, &err));
}
END_TEST

static Suite *gdbstub_suite(void)
{
    Suite *su = suite_create("gdbstub");
    TCase *tc = tcase_create("protocol");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_a_good_packet_is_acked_and_a_bad_checksum_is_refused);
    tcase_add_test(tc, test_a_nak_resends_the_last_reply);
    tcase_add_test(tc, test_no_ack_mode_stops_the_acks);
    tcase_add_test(tc, test_a_packet_cut_short_by_another_is_dropped);
    tcase_add_test(tc, test_a_packet_split_across_feeds_is_reassembled);
    tcase_add_test(tc, test_random_bytes_never_break_the_stub);
    tcase_add_test(tc, test_a_packet_longer_than_the_packet_size_is_refused);
    tcase_add_test(tc, test_qsupported_advertises_the_features_and_reverse_execution);
    tcase_add_test(tc, test_target_xml_describes_the_i386_core_registers);
    tcase_add_test(tc, test_thread_and_offset_queries_describe_one_thread);
    tcase_add_test(tc, test_an_unknown_packet_gets_an_empty_reply);
    tcase_add_test(tc, test_the_monitor_tells_the_instruction_count);
    tcase_add_test(tc, test_g_returns_sixteen_registers_with_eip_at_the_entry);
    tcase_add_test(tc, test_G_writes_the_registers_that_changed);
    tcase_add_test(tc, test_p_and_P_read_and_write_one_register);
    tcase_add_test(tc, test_m_reads_the_multiboot_header);
    tcase_add_test(tc, test_m_of_unreadable_memory_is_E14);
    tcase_add_test(tc, test_M_and_X_write_memory);
    tcase_add_test(tc, test_M_and_X_into_the_rom_are_refused);
    tcase_add_test(tc, test_malformed_hex_is_an_error_and_the_next_packet_works);
    tcase_add_test(tc, test_continue_stops_at_a_breakpoint_with_swbreak);
    tcase_add_test(tc, test_a_hardware_breakpoint_reports_hwbreak);
    tcase_add_test(tc, test_without_swbreak_from_gdb_no_reason_is_given);
    tcase_add_test(tc, test_a_removed_breakpoint_no_longer_stops);
    tcase_add_test(tc, test_s_advances_one_instruction);
    tcase_add_test(tc, test_bs_goes_back_one_instruction_to_the_same_registers);
    tcase_add_test(tc, test_bs_at_the_start_reports_the_beginning_of_history);
    tcase_add_test(tc, test_bc_after_two_breakpoint_hits_lands_on_the_earlier_one);
    tcase_add_test(tc, test_a_write_watchpoint_stops_with_watch_and_the_address);
    tcase_add_test(tc, test_read_and_access_watchpoints_stop_with_their_kind);
    tcase_add_test(tc, test_ctrl_c_while_continuing_stops_with_T02);
    tcase_add_test(tc, test_ctrl_c_queued_behind_continue_stops_before_running);
    tcase_add_test(tc, test_ctrl_c_while_stopped_is_ignored);
    tcase_add_test(tc, test_a_hangup_while_running_stops_the_guest);
    tcase_add_test(tc, test_the_guest_ending_is_reported_as_W_with_its_exit_status);
    tcase_add_test(tc, test_detach_and_kill_end_the_session);
    tcase_add_test(tc, test_kill_ends_the_session_without_a_reply);
    tcase_add_test(tc, test_monitor_break_vmi_stops_before_the_call_without_a_breakpoint_reason);
    tcase_add_test(tc, test_monitor_delete_removes_only_a_vmi_breakpoint);
    tcase_add_test(tc, test_monitor_refuses_an_unknown_vmi_call_and_explains_itself);
    tcase_add_test(tc, test_detach_drops_the_monitors_vmi_breakpoints);
    tcase_add_test(tc, test_monitor_bt_names_the_frames_with_the_kernels_symbols);
    tcase_add_test(tc, test_the_spec_defaults_to_loopback_and_refuses_names);
    suite_add_tcase(su, tc);
    TCase *quiet = tcase_create("quiet calls");
    tcase_add_checked_fixture(quiet, setup_quiet, teardown);
    tcase_add_test(quiet, test_monitor_break_vmi_stops_at_a_quiet_call);
    suite_add_tcase(su, quiet);
    TCase *nosnap = tcase_create("no snapshots");
    tcase_add_checked_fixture(nosnap, setup_no_snapshots, teardown);
    tcase_add_test(nosnap, test_without_snapshots_reverse_is_neither_advertised_nor_done);
    suite_add_tcase(su, nosnap);
    return su;
}

SUITE_MAIN(gdbstub_suite)
