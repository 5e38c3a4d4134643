#define _XOPEN_SOURCE 700
#include "frontend/regress/find.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "emu/record.h"

static bool push(path_list *l, const char *path)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **p = realloc(l->paths, cap * sizeof *p);
        if (!p)
            return false;
        l->paths = p;
        l->cap = cap;
    }
    char *copy = strdup(path);
    if (!copy)
        return false;
    l->paths[l->count++] = copy;
    return true;
}

void path_list_free(path_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->paths[i]);
    free(l->paths);
    memset(l, 0, sizeof *l);
}

static int by_path(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

/* nftw has no context argument: the walk in progress. */
static path_list *walk_out;
static bool walk_records_only, walk_failed;

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)ftw;
    if (type == FTW_F && (!walk_records_only || ends_with(path, ".rec")) && !push(walk_out, path)) {
        walk_failed = true;
        return 1;
    }
    return 0;
}

static bool walk(const char *dir, bool records_only, path_list *out, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a folder", dir);
        return false;
    }
    walk_out = out;
    walk_records_only = records_only;
    walk_failed = false;
    size_t first = out->count;
    if (nftw(dir, visit, 32, FTW_PHYS) != 0 || walk_failed) {
        snprintf(err, errlen, "%s: %s", dir, walk_failed ? "out of memory" : strerror(errno));
        return false;
    }
    if (out->count > first) /* an empty folder leaves paths NULL, which qsort must not get */
        qsort(out->paths + first, out->count - first, sizeof *out->paths, by_path);
    return true;
}

bool find_records(const char *dir, path_list *out, char *err, size_t errlen)
{
    char *real = realpath(dir, NULL); /* a symlinked folder is walked too */
    bool ok = walk(real ? real : dir, true, out, err, errlen);
    free(real);
    return ok;
}

typedef struct candidate {
    uint64_t size, hash;
    bool hashed;
} candidate;

struct file_index {
    path_list files, dirs;
    candidate *c;
};

file_index *file_index_new(void) { return calloc(1, sizeof(file_index)); }

void file_index_free(file_index *ix)
{
    if (!ix)
        return;
    path_list_free(&ix->files);
    path_list_free(&ix->dirs);
    free(ix->c);
    free(ix);
}

bool file_index_add_dir(file_index *ix, const char *dir, char *err, size_t errlen)
{
    char *real = realpath(dir, NULL);
    if (!real) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return false;
    }
    for (size_t i = 0; i < ix->dirs.count; i++)
        if (strcmp(ix->dirs.paths[i], real) == 0) {
            free(real);
            return true;
        }
    bool ok = push(&ix->dirs, real);
    size_t first = ix->files.count;
    ok = ok && walk(real, false, &ix->files, err, errlen); /* real: a symlinked folder is walked too */
    free(real);
    if (!ok)
        return false;
    candidate *c = realloc(ix->c, (ix->files.count ? ix->files.count : 1) * sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    ix->c = c;
    for (size_t i = first; i < ix->files.count; i++) {
        struct stat st;
        c[i] = (candidate){.size = stat(ix->files.paths[i], &st) == 0 ? (uint64_t)st.st_size : UINT64_MAX};
    }
    return true;
}

/* rec_hash_bytes of a whole file, read in one piece (kernels and initrds are megabytes). */
static bool hash_file(const char *path, uint64_t size, uint64_t *hash)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    unsigned char *buf = malloc(size ? size : 1);
    bool ok = buf && fread(buf, 1, size, f) == size;
    if (ok)
        *hash = rec_hash_bytes(buf, size);
    free(buf);
    fclose(f);
    return ok;
}

const char *file_index_lookup(file_index *ix, uint64_t size, uint64_t hash)
{
    for (size_t i = 0; i < ix->files.count; i++) {
        candidate *c = &ix->c[i];
        if (c->size != size || ends_with(ix->files.paths[i], ".rec"))
            continue;
        if (!c->hashed && !hash_file(ix->files.paths[i], size, &c->hash)) {
            c->size = UINT64_MAX; /* unreadable: never a match */
            continue;
        }
        c->hashed = true;
        if (c->hash == hash)
            return ix->files.paths[i];
    }
    return NULL;
}
