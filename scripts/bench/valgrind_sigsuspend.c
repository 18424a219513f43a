/*
 * LD_PRELOAD for running wsgate under valgrind 3.19 (Debian 12), for scripts/bench_instructions.sh.
 * Valgrind's rt_sigsuspend wrapper deletes its own signal from the mask IN the caller's memory;
 * libdispatch's main thread (dispatch_main, under Swift's async main) parks in sigsuspend with a
 * mask in read-only memory, so valgrind takes an internal SIGSEGV. This sigsuspend passes a copy.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, 8);
}
