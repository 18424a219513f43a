/*
 * LD_PRELOAD counter of heap allocations, for scripts/bench_instructions.sh.
 * Counts calls of malloc, calloc, realloc, posix_memalign, aligned_alloc and memalign (free is
 * counted separately) in a file mapped shared, named by MALLOC_COUNT_FILE, so a script reads the
 * running totals at any moment (two unsigned 64-bit little-endian words: allocations, frees).
 * glibc's __libc_* entry points do the work, so no dlsym bootstrap is needed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static uint64_t fallback[2];
static uint64_t *counts = fallback;

__attribute__((constructor)) static void map_counts(void) {
    const char *path = getenv("MALLOC_COUNT_FILE");
    if (path == NULL) return;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, sizeof fallback) != 0) return;
    void *mapped = mmap(NULL, sizeof fallback, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (mapped == MAP_FAILED) return;
    counts = mapped;
}

static inline void count(int which) { __atomic_fetch_add(&counts[which], 1, __ATOMIC_RELAXED); }

void *malloc(size_t size) { count(0); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { count(0); return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { count(0); return __libc_realloc(p, size); }
void *memalign(size_t alignment, size_t size) { count(0); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { count(0); return __libc_memalign(alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size) {
    count(0);
    void *p = __libc_memalign(alignment, size);
    if (p == NULL) return 12; /* ENOMEM */
    *out = p;
    return 0;
}
void free(void *p) { if (p != NULL) count(1); __libc_free(p); }
