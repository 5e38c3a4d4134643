#include "testutil.h"

#include "emu/recplay.h"
#include "emu/snapshot.h"

#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *tu_kernel(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s.elf", VMIEMU_KERNEL_DIR, name);
    return path;
}

const char *tu_fixture(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s.elf", VMIEMU_GUEST_DIR, name);
    return path;
}

void tu_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

const char *tu_tmp(const char *stem)
{
    static char path[4096];
    static int n;
    snprintf(path, sizeof path, "%s/%s-%d-%d", VMIEMU_TEST_TMPDIR, stem, (int)getpid(), n++);
    return path;
}

static char *slurp_fd(int fd)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 1 >= cap)
            buf = realloc(buf, cap *= 2);
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = 0;
    return buf;
}

static run_result run_with_stdin(const char *const *args, const char *stdin_path);

run_result tu_run(const char *const *args) { return run_with_stdin(args, "/dev/null"); }

run_result tu_run_input(const char *const *args, const char *input)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", tu_tmp("stdin"));
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(input, f);
        fclose(f);
    }
    run_result r = run_with_stdin(args, path);
    unlink(path);
    return r;
}

static run_result run_with_stdin(const char *const *args, const char *stdin_path)
{
    run_result r = {0};
    const char *outp = tu_tmp("out"), *errp;
    char outpath[4096], errpath[4096];
    snprintf(outpath, sizeof outpath, "%s", outp);
    errp = tu_tmp("err");
    snprintf(errpath, sizeof errpath, "%s", errp);
    const char *argv[64];
    int argc = 0;
    argv[argc++] = VMIEMU_BINARY;
    for (int i = 0; args[i] && argc < 63; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int in = open(stdin_path, O_RDONLY);
        int o = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        execv(VMIEMU_BINARY, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    int fd = open(outpath, O_RDONLY);
    r.out = slurp_fd(fd);
    close(fd);
    fd = open(errpath, O_RDONLY);
    r.err = slurp_fd(fd);
    close(fd);
    unlink(outpath);
    unlink(errpath);
    return r;
}

void tu_free(run_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

static void capture(void *ctx, uint8_t byte)
{
    tu_machine *t = ctx;
    if (t->serial_len + 1 < sizeof t->serial) {
        t->serial[t->serial_len++] = (char)byte;
        t->serial[t->serial_len] = 0;
    }
}

bool tu_boot_and_run(tu_machine *t, const machine_config *cfg, const char *kernel, vm_error *err)
{
    machine_config def;
    if (!cfg) {
        machine_config_defaults(&def);
        cfg = &def;
    }
    t->serial_len = 0;
    t->serial[0] = 0;
    if (!machine_init(&t->m, cfg, kernel, err))
        return false;
    machine_set_serial_out(&t->m, capture, t);
    machine_run(&t->m);
    return true;
}

bool tu_load_snippet(machine *m, const char *name) { return tu_load_snippet_with(m, name, NULL); }

bool tu_load_snippet_with(machine *m, const char *name, const machine_config *cfg)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.bin", VMIEMU_GUEST_DIR, name);
    uint8_t *code;
    size_t size;
    vm_error err = {0};
    if (!loader_read_file(path, &code, &size, &err))
        return false;
    bool loaded = tu_load_code(m, cfg, code, size);
    free(code);
    return loaded;
}

bool tu_load_code(machine *m, const machine_config *cfg, const uint8_t *code, size_t size)
{
    machine_config c;
    if (cfg)
        c = *cfg;
    else
        machine_config_defaults(&c);
    c.max_insns = 1000;
    vm_error err = {0};
    if (!machine_init(m, &c, tu_kernel("hello"), &err))
        return false;
    machine_set_serial_out(m, NULL, NULL);
    if (machine_run(m) != END_LIMIT || !phys_write(&m->mem, TU_SNIPPET_BASE, code, size))
        return false;
    m->end = END_RUNNING;
    m->cfg.max_insns = 0;
    evlog_truncate(&m->log, 0);
    if (!vcpu_set(m->cpu, CPU_EIP, TU_SNIPPET_BASE))
        return false;
    if (m->timeline) { /* the past is hello's: start the timeline at the snippet */
        snap_forget(m);
        return snap_take(m, &err);
    }
    return true;
}

machine_end tu_run_snippet(machine *m, const char *name)
{
    return tu_load_snippet(m, name) ? machine_run(m) : END_ERROR;
}

char *tu_log_text(const machine *m)
{
    size_t cap = 256 + evlog_count(&m->log) * 256, len = 0;
    char *buf = malloc(cap);
    buf[0] = 0;
    for (size_t i = 0; i < evlog_count(&m->log); i++) {
        char line[512];
        size_t n = ev_format_text(tu_event(&m->log, i), i, line, sizeof line);
        if (n >= sizeof line)
            n = sizeof line - 1;
        if (len + n + 2 > cap)
            buf = realloc(buf, cap = cap * 2 + n + 2);
        memcpy(buf + len, line, n);
        len += n;
        buf[len++] = '\n';
        buf[len] = 0;
    }
    return buf;
}

const vm_event *tu_event(const evlog *log, size_t i)
{
    static vm_event ring[16];
    static unsigned next;
    vm_event *ev = &ring[next++ % 16];
    ck_assert_msg(evlog_get(log, i, ev), "no event %zu in a log of %zu", i, evlog_count(log));
    return ev;
}

const vm_event *tu_last_event(const evlog *log, uint16_t kind)
{
    for (size_t i = evlog_count(log); i-- > 0;) {
        const vm_event *ev = tu_event(log, i);
        if (ev->kind == kind)
            return ev;
    }
    ck_abort_msg("no event of kind %u in a log of %zu", kind, evlog_count(log));
    return NULL;
}

tu_machine *tu_start_recording(const char *kernel, const char *rec)
{
    tu_machine *t = calloc(1, sizeof *t);
    ck_assert_ptr_nonnull(t);
    machine_config c;
    machine_config_defaults(&c);
    c.snap_every = 1000;
    vm_error err = {0};
    ck_assert_msg(machine_init(&t->m, &c, kernel, &err), "%s", err.msg);
    machine_set_serial_out(&t->m, NULL, NULL);
    ck_assert_msg(recplay_record(&t->m, rec, &err), "%s", err.msg);
    return t;
}

bool tu_linux_guest_file(char *out, size_t size, const char *file)
{
    const char *env = getenv("VMIEMU_GUESTS");
    snprintf(out, size, "%s/vmilinux-2.6.32/%s", env && *env ? env : VMIEMU_SOURCE_DIR "/../shared/guests", file);
    struct stat st;
    return stat(out, &st) == 0;
}

bool tu_linux_guest_files(char *out, const char *file, ...)
{
    va_list ap;
    va_start(ap, file);
    while (out && tu_linux_guest_file(out, TU_GUEST_PATH, file)) {
        out = va_arg(ap, char *);
        file = out ? va_arg(ap, const char *) : NULL;
    }
    va_end(ap);
    if (out)
        printf("SKIPPED: no Linux guest (%s); set VMIEMU_GUESTS to the shared guest directory\n", out);
    return !out;
}
