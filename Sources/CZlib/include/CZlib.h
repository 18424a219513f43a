#ifndef CZLIB_H
#define CZLIB_H

// A thin shim over the system zlib (zlib1g-dev) for WSGate's permessage-deflate codec.
// deflateInit2/inflateInit2 are macros, which Swift cannot call; these functions wrap them and
// install a counting allocator so the gateway knows exactly how much memory zlib holds.

#include <stdint.h>
#include <zlib.h>

/// Starts a raw deflate stream (negative window bits: no zlib header) whose allocations are added
/// to and removed from `*bytes_in_use`. Returns zlib's status (Z_OK on success).
int czlib_deflate_init(z_streamp strm, int level, int window_bits, int mem_level, int64_t *bytes_in_use);

/// Starts a raw inflate stream whose allocations are counted in `*bytes_in_use`.
int czlib_inflate_init(z_streamp strm, int window_bits, int64_t *bytes_in_use);

#endif
