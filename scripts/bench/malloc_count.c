/*
 * LD_PRELOAD counter of heap allocations, for scripts/bench_instructions.sh.
 * Counts calls of malloc, calloc, realloc, posix_memalign, aligned_alloc and memalign (free is
 * counted separately) in a file mapped shared, named by MALLOC_COUNT_FILE, so a script reads the
 * running totals at any moment (three unsigned 64-bit little-endian words: allocations, frees, and
 * the bytes of the blocks allocated and not yet freed, as malloc_usable_size counts them).
 * glibc's __libc_* entry points do the work, so no dlsym bootstrap is needed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
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

static uint64_t fallback[3];
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
/* The live bytes: a block's usable size is added when it is handed out and taken off when freed. */
static inline void *held(void *p) {
    if (p != NULL) __atomic_fetch_add(&counts[2], malloc_usable_size(p), __ATOMIC_RELAXED);
    return p;
}
static inline void released(void *p) {
    if (p != NULL) __atomic_fetch_sub(&counts[2], malloc_usable_size(p), __ATOMIC_RELAXED);
}

void *malloc(size_t size) { count(0); return held(__libc_malloc(size)); }
void *calloc(size_t n, size_t size) { count(0); return held(__libc_calloc(n, size)); }
void *realloc(void *p, size_t size) {
    count(0);
    size_t before = p == NULL ? 0 : malloc_usable_size(p);
    void *q = __libc_realloc(p, size);
    if (q != NULL || size == 0) __atomic_fetch_sub(&counts[2], before, __ATOMIC_RELAXED);
    return held(q);
}
void *memalign(size_t alignment, size_t size) { count(0); return held(__libc_memalign(alignment, size)); }
void *aligned_alloc(size_t alignment, size_t size) { count(0); return held(__libc_memalign(alignment, size)); }
int posix_memalign(void **out, size_t alignment, size_t size) {
    count(0);
    void *p = held(__libc_memalign(alignment, size));
    if (p == NULL) return 12; /* ENOMEM */
    *out = p;
    return 0;
}
void free(void *p) {
    if (p != NULL) count(1);
    released(p);
    __libc_free(p);
}
