#include "CZlib.h"

#include <stddef.h>
#include <stdlib.h>

// Each block carries its size in front, so zfree can subtract exactly what zalloc added.
#define CZLIB_HEADER ((size_t)16)

static voidpf czlib_alloc(voidpf opaque, uInt items, uInt size) {
    size_t bytes = (size_t)items * (size_t)size;
    unsigned char *block = malloc(bytes + CZLIB_HEADER);
    if (block == NULL) {
        return Z_NULL;
    }
    *(size_t *)block = bytes;
    *(int64_t *)opaque += (int64_t)bytes;
    return block + CZLIB_HEADER;
}

static void czlib_free(voidpf opaque, voidpf address) {
    if (address == Z_NULL) {
        return;
    }
    unsigned char *block = (unsigned char *)address - CZLIB_HEADER;
    *(int64_t *)opaque -= (int64_t) * (size_t *)block;
    free(block);
}

int czlib_deflate_init(z_streamp strm, int level, int window_bits, int mem_level, int64_t *bytes_in_use) {
    strm->zalloc = czlib_alloc;
    strm->zfree = czlib_free;
    strm->opaque = bytes_in_use;
    return deflateInit2(strm, level, Z_DEFLATED, -window_bits, mem_level, Z_DEFAULT_STRATEGY);
}

int czlib_inflate_init(z_streamp strm, int window_bits, int64_t *bytes_in_use) {
    strm->zalloc = czlib_alloc;
    strm->zfree = czlib_free;
    strm->opaque = bytes_in_use;
    return inflateInit2(strm, -window_bits);
}
