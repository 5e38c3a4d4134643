/* Kernel symbols (frontend/symbols.h): ELF32 symbol tables built here with <elf.h>'s structures,
 * System.map text, every cut and corruption of an ELF, and the real Linux vmlinux and its
 * System.map when the shared guest directory is there. */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frontend/symbols.h"
#include "support/suite_main.h"
#include "support/testutil.h"

/* ---- A small ELF: header, a string table, a symbol table, three section headers. */

typedef struct fake_sym {
    const char *name;
    uint32_t value, size;
    unsigned char type, bind;
    uint16_t shndx;
} fake_sym;

static const fake_sym fake[] = {
    {"start_kernel", 0xC119E3ADu, 0x100, STT_FUNC, STB_GLOBAL, 1},
    {"_sinittext", 0xC119E3ADu, 0, STT_NOTYPE, STB_GLOBAL, 1}, /* an alias: the function names it */
    {"do_fork", 0xC1019A80u, 0x40, STT_FUNC, STB_GLOBAL, 1},
    {"native_set_pte", 0xC1010B40u, 0x20, STT_FUNC, STB_LOCAL, 1},
    {"jiffies", 0xC1180000u, 4, STT_OBJECT, STB_GLOBAL, 2},
    {"undefined_thing", 0, 0, STT_FUNC, STB_GLOBAL, SHN_UNDEF},
    {"VDSO32_PRELINK", 0x400, 0, STT_NOTYPE, STB_GLOBAL, SHN_ABS},
    {"init/main.c", 0, 0, STT_FILE, STB_LOCAL, SHN_ABS},
};
#define NFAKE (sizeof fake / sizeof fake[0])

/* The image, malloc'ed to its exact size (so ASan sees any read past it); *size is set. */
static uint8_t *fake_elf(size_t *size)
{
    char strtab[512] = {0};
    size_t strsz = 1;
    Elf32_Sym syms[NFAKE + 1];
    memset(syms, 0, sizeof syms); /* symbol 0 is the null symbol */
    for (size_t i = 0; i < NFAKE; i++) {
        syms[i + 1] = (Elf32_Sym){.st_name = (Elf32_Word)strsz, .st_value = fake[i].value, .st_size = fake[i].size,
                                  .st_info = ELF32_ST_INFO(fake[i].bind, fake[i].type), .st_shndx = fake[i].shndx};
        strcpy(strtab + strsz, fake[i].name);
        strsz += strlen(fake[i].name) + 1;
    }
    size_t symoff = sizeof(Elf32_Ehdr), stroff = symoff + sizeof syms, shoff = stroff + strsz;
    Elf32_Shdr sh[3] = {{0},
                        {.sh_type = SHT_SYMTAB, .sh_offset = (Elf32_Off)symoff, .sh_size = sizeof syms, .sh_link = 2,
                         .sh_entsize = sizeof(Elf32_Sym)},
                        {.sh_type = SHT_STRTAB, .sh_offset = (Elf32_Off)stroff, .sh_size = (Elf32_Word)strsz}};
    Elf32_Ehdr eh = {.e_type = ET_EXEC, .e_machine = EM_386, .e_version = EV_CURRENT, .e_shoff = (Elf32_Off)shoff,
                     .e_ehsize = sizeof eh, .e_shentsize = sizeof(Elf32_Shdr), .e_shnum = 3};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS32;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    *size = shoff + sizeof sh;
    uint8_t *img = malloc(*size);
    ck_assert_ptr_nonnull(img);
    memcpy(img, &eh, sizeof eh);
    memcpy(img + symoff, syms, sizeof syms);
    memcpy(img + stroff, strtab, strsz);
    memcpy(img + shoff, sh, sizeof sh);
    return img;
}

static symtab t;
static vm_error err;

static void setup(void)
{
    memset(&t, 0, sizeof t);
    memset(&err, 0, sizeof err);
}

static void teardown(void) { symtab_free(&t); }

static void load_fake(void)
{
    size_t size;
    uint8_t *img = fake_elf(&size);
    ck_assert_msg(symtab_from_elf(&t, img, size, "fake", &err), "%s", err.msg);
    free(img);
}

static const char *describe(uint32_t addr)
{
    static char buf[128];
    return symtab_describe(&t, addr, buf, sizeof buf);
}

START_TEST(test_elf_functions_and_objects_are_found_by_name)
{
    load_fake();
    uint32_t a = 0;
    ck_assert(symtab_lookup(&t, "start_kernel", &a));
    ck_assert_uint_eq(a, 0xC119E3ADu);
    ck_assert(symtab_lookup(&t, "do_fork", &a));
    ck_assert_uint_eq(a, 0xC1019A80u);
    ck_assert(symtab_lookup(&t, "jiffies", &a));
    ck_assert_uint_eq(a, 0xC1180000u);
    ck_assert(!symtab_lookup(&t, "do_for", &a));
    ck_assert(!symtab_lookup(&t, "do_fork2", &a));
}
END_TEST

START_TEST(test_undefined_absolute_and_file_symbols_are_left_out)
{
    load_fake();
    uint32_t a;
    ck_assert(!symtab_lookup(&t, "undefined_thing", &a));
    ck_assert(!symtab_lookup(&t, "VDSO32_PRELINK", &a));
    ck_assert(!symtab_lookup(&t, "init/main.c", &a));
    ck_assert_ptr_null(describe(0x410));
    ck_assert_uint_eq(t.count, 5);
}
END_TEST

START_TEST(test_an_address_is_described_as_symbol_plus_offset)
{
    load_fake();
    ck_assert_str_eq(describe(0xC1019A80u), "do_fork");
    ck_assert_str_eq(describe(0xC1019A9Bu), "do_fork+0x1b");
    ck_assert_str_eq(describe(0xC1010B5Bu), "native_set_pte+0x1b");
}
END_TEST

START_TEST(test_a_function_describes_its_address_better_than_an_alias_label)
{
    load_fake();
    ck_assert_str_eq(describe(0xC119E3ADu), "start_kernel");
    ck_assert_str_eq(describe(0xC119E3B2u), "start_kernel+0x5");
}
END_TEST

START_TEST(test_an_address_past_a_sized_symbol_or_before_all_has_no_name)
{
    load_fake();
    ck_assert_ptr_null(describe(0xC1019A80u + 0x40)); /* do_fork is 0x40 bytes */
    ck_assert_ptr_null(describe(0xC1000000u));
    ck_assert_ptr_null(describe(0));
    ck_assert_ptr_nonnull(symtab_find(&t, 0xC1180003u));
    ck_assert(!symtab_find(&t, 0xC1180003u)->text);
    ck_assert(symtab_find(&t, 0xC1019A81u)->text);
}
END_TEST

START_TEST(test_completion_lists_the_names_with_a_prefix_in_order)
{
    load_fake();
    ck_assert_str_eq(symtab_complete(&t, "d", 0), "do_fork");
    ck_assert_ptr_null(symtab_complete(&t, "d", 1));
    ck_assert_str_eq(symtab_complete(&t, "", 0), "_sinittext");
    ck_assert_str_eq(symtab_complete(&t, "", 4), "start_kernel");
    ck_assert_ptr_null(symtab_complete(&t, "", 5));
    ck_assert_ptr_null(symtab_complete(&t, "zzz", 0));
}
END_TEST

START_TEST(test_a_system_map_loads_like_the_elf)
{
    const char *map = "00000400 A VDSO32_PRELINK\n"
                      "c1010b40 t native_set_pte\n"
                      "c1019a80 T do_fork\n"
                      "c119e3ad T start_kernel\r\n"
                      "c1180000 D jiffies\n"
                      "\n"
                      "c1200000 B __bss_stop";
    ck_assert_msg(symtab_from_map(&t, map, strlen(map), "System.map", &err), "%s", err.msg);
    uint32_t a;
    ck_assert(symtab_lookup(&t, "start_kernel", &a));
    ck_assert_uint_eq(a, 0xC119E3ADu);
    ck_assert(symtab_lookup(&t, "__bss_stop", &a));
    ck_assert(!symtab_lookup(&t, "VDSO32_PRELINK", &a));
    ck_assert_str_eq(describe(0xC1019A9Bu), "do_fork+0x1b");
    ck_assert(symtab_find(&t, 0xC1019A9Bu)->text);
    ck_assert(!symtab_find(&t, 0xC1180000u)->text);
}
END_TEST

START_TEST(test_a_text_file_that_is_not_a_system_map_is_refused_with_its_line)
{
    const char *bad[] = {"c1019a80 T do_fork\nhello world\n", "c1019a80 do_fork\n", "c1019a80 T \n",
                         "123456789abcdef01 T too_long\n", "xyz T name\n", "c1019a80 TT name\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        ck_assert_msg(!symtab_from_map(&t, bad[i], strlen(bad[i]), "map", &err), "accepted: %s", bad[i]);
        ck_assert_int_eq(err.code, VM_EFORMAT);
        ck_assert_msg(strstr(err.msg, "map:"), "%s", err.msg);
        ck_assert_uint_eq(t.count, 0);
    }
    ck_assert_ptr_nonnull(strstr(err.msg, "map:1:"));
}
END_TEST

START_TEST(test_a_stripped_or_64_bit_elf_is_refused_with_a_reason)
{
    size_t size;
    uint8_t *img = fake_elf(&size);
    img[EI_CLASS] = ELFCLASS64;
    ck_assert(!symtab_from_elf(&t, img, size, "vmlinux", &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "vmlinux: not a 32-bit"));
    img[EI_CLASS] = ELFCLASS32;
    Elf32_Ehdr eh;
    memcpy(&eh, img, sizeof eh);
    Elf32_Shdr sh;
    memcpy(&sh, img + eh.e_shoff + sizeof sh, sizeof sh);
    sh.sh_type = SHT_PROGBITS; /* no symbol table left */
    memcpy(img + eh.e_shoff + sizeof sh, &sh, sizeof sh);
    memset(&err, 0, sizeof err);
    ck_assert(!symtab_from_elf(&t, img, size, "vmlinux", &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "no symbol table"));
    free(img);
}
END_TEST

/* Every cut of the file is refused or loads names that lie inside the table; none reads past
 * the image (each cut is its own exact-size allocation). */
START_TEST(test_every_truncation_of_an_elf_is_survived)
{
    size_t size;
    uint8_t *img = fake_elf(&size);
    for (size_t cut = 0; cut < size; cut++) {
        uint8_t *part = malloc(cut ? cut : 1);
        memcpy(part, img, cut);
        memset(&err, 0, sizeof err);
        bool ok = symtab_from_elf(&t, part, cut, "cut", &err);
        ck_assert_msg(ok || err.code == VM_EFORMAT, "cut %zu: %s", cut, err.msg);
        ck_assert_msg(!ok, "cut %zu of %zu loaded: the section headers are at the end", cut, size);
        symtab_free(&t);
        free(part);
    }
    free(img);
}
END_TEST

/* Every byte set to each of a few hostile values: the loader refuses or loads, never crashes
 * or reads outside the image, and whatever it loads is consistent. */
START_TEST(test_every_corrupted_byte_of_an_elf_is_survived)
{
    static const uint8_t values[] = {0x00, 0x01, 0x7F, 0x80, 0xFF};
    size_t size;
    uint8_t *img = fake_elf(&size);
    for (size_t at = 0; at < size; at++)
        for (size_t v = 0; v < sizeof values; v++) {
            uint8_t *bad = malloc(size);
            memcpy(bad, img, size);
            bad[at] = values[v];
            memset(&err, 0, sizeof err);
            if (symtab_from_elf(&t, bad, size, "bad", &err)) {
                for (size_t i = 0; i < t.count; i++) {
                    ck_assert_ptr_nonnull(t.syms[i].name);
                    ck_assert_uint_gt(strlen(t.syms[i].name), 0);
                    ck_assert(i == 0 || t.syms[i - 1].addr <= t.syms[i].addr);
                }
                char buf[64];
                symtab_describe(&t, 0xC1019A9Bu, buf, sizeof buf);
            } else {
                ck_assert_int_eq(err.code, VM_EFORMAT);
            }
            symtab_free(&t);
            free(bad);
        }
    free(img);
}
END_TEST

START_TEST(test_a_missing_file_is_an_io_error_naming_it)
{
    ck_assert(!symtab_load_file(&t, "/nonexistent/vmlinux", &err));
    ck_assert_int_eq(err.code, VM_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/vmlinux"));
}
END_TEST

START_TEST(test_a_file_is_loaded_as_elf_or_system_map_by_its_content)
{
    const char *path = tu_tmp("map");
    tu_write_text(path, "c1019a80 T do_fork\n");
    ck_assert_msg(symtab_load_file(&t, path, &err), "%s", err.msg);
    ck_assert_uint_eq(t.count, 1);
    symtab_free(&t);
    ck_assert_msg(symtab_load_file(&t, tu_kernel("hello"), &err), "%s", err.msg);
    uint32_t a;
    ck_assert(symtab_lookup(&t, "kmain", &a));
}
END_TEST

/* ---- The real kernel, when it is there. */

static bool guest_file(const char *name, char *path, size_t len)
{
    const char *dir = getenv("VMIEMU_GUESTS");
    snprintf(path, len, "%s/vmilinux-2.6.32/%s", dir && *dir ? dir : VMIEMU_SOURCE_DIR "/../shared/guests", name);
    struct stat st;
    return stat(path, &st) == 0;
}

/* Both files name every text symbol at the same address. */
START_TEST(test_the_linux_vmlinux_and_its_system_map_agree)
{
    char elf_path[4096], map_path[4096];
    if (!guest_file("vmlinux", elf_path, sizeof elf_path) || !guest_file("System.map", map_path, sizeof map_path))
        return; /* no guest here: nothing to compare (test_linux_guest reports the skip) */
    ck_assert_msg(symtab_load_file(&t, elf_path, &err), "%s", err.msg);
    symtab map;
    ck_assert_msg(symtab_load_file(&map, map_path, &err), "%s", err.msg);
    ck_assert_uint_gt(t.count, 10000);
    size_t checked = 0;
    for (size_t i = 0; i < map.count; i++) {
        if (!map.syms[i].text)
            continue;
        uint32_t a;
        ck_assert_msg(symtab_lookup(&t, map.syms[i].name, &a), "%s not in vmlinux", map.syms[i].name);
        checked++;
    }
    ck_assert_uint_gt(checked, 8000);
    uint32_t sk = 0, sk_map = 0;
    ck_assert(symtab_lookup(&t, "start_kernel", &sk) && symtab_lookup(&map, "start_kernel", &sk_map));
    ck_assert_uint_eq(sk, sk_map);
    char buf[128];
    ck_assert_str_eq(symtab_describe(&t, sk + 0x10, buf, sizeof buf), "start_kernel+0x10");
    symtab_free(&map);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("symbols");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_elf_functions_and_objects_are_found_by_name);
    tcase_add_test(tc, test_undefined_absolute_and_file_symbols_are_left_out);
    tcase_add_test(tc, test_an_address_is_described_as_symbol_plus_offset);
    tcase_add_test(tc, test_a_function_describes_its_address_better_than_an_alias_label);
    tcase_add_test(tc, test_an_address_past_a_sized_symbol_or_before_all_has_no_name);
    tcase_add_test(tc, test_completion_lists_the_names_with_a_prefix_in_order);
    tcase_add_test(tc, test_a_system_map_loads_like_the_elf);
    tcase_add_test(tc, test_a_text_file_that_is_not_a_system_map_is_refused_with_its_line);
    tcase_add_test(tc, test_a_stripped_or_64_bit_elf_is_refused_with_a_reason);
    tcase_add_test(tc, test_every_truncation_of_an_elf_is_survived);
    tcase_add_test(tc, test_every_corrupted_byte_of_an_elf_is_survived);
    tcase_add_test(tc, test_a_missing_file_is_an_io_error_naming_it);
    tcase_add_test(tc, test_a_file_is_loaded_as_elf_or_system_map_by_its_content);
    tcase_add_test(tc, test_the_linux_vmlinux_and_its_system_map_agree);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(suite)
