/* Finding the work of a regression-replay suite: every record under a folder, and the files a
 * record names by hash and size (its kernel and initrd), beside it or under --kernels DIRs. */
#ifndef VMIEMU_REGRESS_FIND_H
#define VMIEMU_REGRESS_FIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct path_list {
    char **paths;
    size_t count, cap;
} path_list;

/* Every regular file under dir whose name ends in ".rec", as paths below dir's real path
 * (symbolic links resolved), sorted (so shards are the same on every machine). False with a message in err (of errlen bytes) if dir cannot be read. */
bool find_records(const char *dir, path_list *out, char *err, size_t errlen);
void path_list_free(path_list *l);

/* Candidate files for kernels and initrds: every regular file under the given folders, with
 * their sizes; hashes are computed on demand and kept. */
typedef struct file_index file_index;
file_index *file_index_new(void);
void file_index_free(file_index *ix);
/* Adds the files under dir (recursively); a folder already added is skipped. */
bool file_index_add_dir(file_index *ix, const char *dir, char *err, size_t errlen);
/* The first file (in the order added, then by path) with this size and rec_hash_bytes hash, or
 * NULL. The string belongs to the index. */
const char *file_index_lookup(file_index *ix, uint64_t size, uint64_t hash);

#endif
