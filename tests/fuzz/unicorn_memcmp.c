/* Fuzzing builds only (CMakeLists.txt): the memcmp that Unicorn's own calls go to. Unicorn's
 * code generator compares bytes with memcmp for every branch it emits; in a binary built with
 * -fsanitize=fuzzer each of those calls went through ASan's interceptor to libFuzzer's
 * comparison hook, which took a third of the machine targets' time (perf, 2026-12-05) and
 * taught the fuzzer nothing: Unicorn is not instrumented, so no comparison of it can be steered
 * towards. The fuzz build renames Unicorn's memcmp to this function (objcopy --redefine-sym),
 * which calls the C library's memcmp directly, past the interceptor. vmiemu's own memcmp calls
 * are untouched: they still feed the fuzzer and ASan still checks them. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>

int vmiemu_unicorn_memcmp(const void *a, const void *b, size_t n);

int vmiemu_unicorn_memcmp(const void *a, const void *b, size_t n)
{
    static int (*libc_memcmp)(const void *, const void *, size_t);
    if (!libc_memcmp) {
        /* The interceptor is in the executable, so the next definition is the C library's. */
        libc_memcmp = (int (*)(const void *, const void *, size_t))dlsym(RTLD_NEXT, "memcmp");
        if (!libc_memcmp)
            abort();
    }
    return libc_memcmp(a, b, n);
}
