/* Outputs that would overwrite an input or another output (frontend/outpaths.h). */
#include "frontend/outpaths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct named_file {
    const char *option; /* "--record", "KERNEL", ... */
    const char *path;
    bool output;
    bool screenshot; /* screenshots to one file may follow each other: the last one stays */
} named_file;

/* The path with its directory resolved (the file itself may not exist yet); the path as given
 * if the directory cannot be resolved (opening it will say why). */
static void canonical(const char *path, char *out, size_t len)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX], real[PATH_MAX];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (realpath(dir, real))
        snprintf(out, len, "%s/%s", real, slash ? slash + 1 : path);
    else
        snprintf(out, len, "%s", path);
}

/* Two existing regular files are the same if they are one inode (links, ./ and ../ included);
 * devices (/dev/null) may take any number of outputs. A file that does not exist yet can
 * only be another output's name for it. */
static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    bool ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
    if (ea && eb)
        return S_ISREG(sa.st_mode) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    if (ea || eb)
        return false;
    char ca[PATH_MAX + 256], cb[PATH_MAX + 256];
    canonical(a, ca, sizeof ca);
    canonical(b, cb, sizeof cb);
    return strcmp(ca, cb) == 0;
}

/* "--serial file:" is followed by its path directly, the others by a blank. */
static const char *sep(const named_file *f) { return f->option[strlen(f->option) - 1] == ':' ? "" : " "; }

/* The run's inputs, then its outputs. */
static size_t collect(const options *o, named_file *f)
{
    size_t n = 0;
#define ADD(opt, p, out) \
    if (p) \
    f[n++] = (named_file){opt, p, out, false}
    ADD("KERNEL", o->kernel, false);
    ADD("--initrd", o->machine.initrd, false);
    ADD("--replay", o->replay_path, false);
    ADD("--symbols", o->symbols_path, false);
    ADD("-x", o->script, false);
    ADD("--record", o->record_path, true);
    ADD("--trace-out", o->trace_path, true);
    ADD("--log", o->log_path && strcmp(o->log_path, "-") ? o->log_path : NULL, true);
    ADD("--serial file:", o->serial == SERIAL_FILE ? o->serial_path : NULL, true);
#undef ADD
    for (size_t i = 0; i < o->sched.n; i++)
        if (o->sched.v[i].kind == SCHED_SCREENSHOT)
            f[n++] = (named_file){"--screenshot-at", o->sched.v[i].arg, true, true};
    return n;
}

bool outpaths_check(const options *o, vm_error *err)
{
    named_file f[8 + SCHED_MAX];
    size_t n = collect(o, f);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            if ((!f[i].output && !f[j].output) || (f[i].screenshot && f[j].screenshot))
                continue;
            /* Inputs come first: f[j] is an output. */
            if (same_file(f[i].path, f[j].path))
                return vm_fail(err, VM_EINVAL, "%s%s%s is the same file as %s%s%s: writing it would %s", f[j].option,
                               sep(&f[j]), f[j].path, f[i].option, sep(&f[i]), f[i].path,
                               f[i].output ? "mix two outputs in one file" : "destroy what the run reads");
        }
    return true;
}

bool outpaths_check_write(const options *o, const char *what, const char *path, vm_error *err)
{
    named_file f[8 + SCHED_MAX];
    size_t n = collect(o, f);
    for (size_t i = 0; i < n; i++)
        if (!f[i].screenshot && same_file(f[i].path, path))
            return vm_fail(err, VM_EINVAL, "%s %s is the same file as %s%s%s: writing it would %s", what, path,
                           f[i].option, sep(&f[i]), f[i].path,
                           f[i].output ? "mix two outputs in one file" : "destroy what the run reads");
    return true;
}
