// LD_PRELOAD shim for Debian's linux.uml (6.1) on hosts with a large XSAVE area.
//
// Why: UML 6.1 saves and restores each guest thread's FPU state with
// ptrace(PTRACE_GETREGSET/PTRACE_SETREGSET, NT_X86_XSTATE) using a fixed 832-byte buffer
// (sizeof(struct _xstate): legacy area + header + AVX). The host kernel insists that a SETREGSET
// passes its whole XSAVE area (xstateregs_set() in arch/x86/kernel/fpu/regset.c returns EFAULT
// unless count == fpu_user_cfg.max_size), and on hosts with PKRU, AVX-512 or AMX that area is
// 2.7-11 KiB. The guest then dies at its first context switch with
// "userspace - ptrace set fp regs failed, errno = 14". Upstream fixed this in 6.11 ("um: Fix FP
// register size for XSTATE/XSAVE"); Debian still ships 6.1.
//
// What: every NT_X86_XSTATE get/set whose buffer is smaller than the host's area goes through a
// full-size shadow buffer kept per UML buffer address (UML keeps one buffer per guest thread, in
// its thread struct), so a thread's upper AVX-512/PKRU/AMX state survives being switched out. A SET
// overlays UML's 832 bytes (which it may have changed, e.g. on sigreturn) onto the shadow. With no
// shadow for a buffer (a thread's first run after fork/clone), the tracee's current full state is
// the base, which is what a new thread may assume of registers the ABI treats as clobbered anyway.
// Every other ptrace call goes straight to libc. When the host area fits UML's buffer, nothing
// changes. UML runs its kernel on one host thread, so no locking is needed.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

typedef long (*ptrace_fn)(enum __ptrace_request, ...);

#define SLOTS 16384u /* guest threads whose state we shadow; lazily backed by anonymous memory */
#define PROBE 32u

static ptrace_fn real_ptrace;
static size_t host_size;  /* bytes of the host's XSAVE area as ptrace reports it; 0 = not known yet */
static uintptr_t *keys;   /* SLOTS buffer addresses */
static unsigned char *shadows; /* SLOTS * host_size bytes */
static unsigned char *scratch; /* host_size bytes */

__attribute__((constructor)) static void shim_init(void) {
  real_ptrace = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
}

// Learn the host's XSAVE area size from a GETREGSET with a generous buffer, once.
static int learn_size(pid_t pid) {
  static unsigned char probe[64 * 1024];
  struct iovec iov = {probe, sizeof probe};
  if (real_ptrace(PTRACE_GETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE, &iov) < 0) return -1;
  size_t size = iov.iov_len;
  void *k = mmap(NULL, SLOTS * sizeof(uintptr_t), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  void *s = mmap(NULL, (size_t)SLOTS * size + size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (k == MAP_FAILED || s == MAP_FAILED) {
    errno = ENOMEM;
    return -1;
  }
  keys = k;
  shadows = s;
  scratch = shadows + (size_t)SLOTS * size;
  host_size = size;
  return 0;
}

// The shadow for a UML buffer; create it if asked. NULL if absent (or the table is full).
static unsigned char *shadow_for(uintptr_t key, int create) {
  unsigned h = (unsigned)((key >> 4) * 2654435761u) % SLOTS;
  for (unsigned i = 0; i < PROBE; i++) {
    unsigned slot = (h + i) % SLOTS;
    if (keys[slot] == key) return shadows + (size_t)slot * host_size;
    if (keys[slot] == 0) {
      if (!create) return NULL;
      keys[slot] = key;
      return shadows + (size_t)slot * host_size;
    }
  }
  if (!create) return NULL;
  keys[h] = key; /* evict: that thread's upper state falls back to the tracee's current state */
  return shadows + (size_t)h * host_size;
}

static long xstate(enum __ptrace_request request, pid_t pid, struct iovec *iov) {
  if (host_size == 0 && learn_size(pid) < 0) return -1;
  if (iov->iov_len >= host_size) {
    return real_ptrace(request, pid, (void *)(uintptr_t)NT_X86_XSTATE, iov);
  }
  uintptr_t key = (uintptr_t)iov->iov_base;
  size_t small = iov->iov_len;
  if (request == PTRACE_GETREGSET) {
    unsigned char *full = shadow_for(key, 1);
    struct iovec big = {full, host_size};
    if (real_ptrace(PTRACE_GETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE, &big) < 0) return -1;
    memcpy(iov->iov_base, full, small);
    return 0;
  }
  unsigned char *full = shadow_for(key, 0);
  if (full == NULL) {
    full = scratch;
    struct iovec big = {full, host_size};
    if (real_ptrace(PTRACE_GETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE, &big) < 0) return -1;
  }
  memcpy(full, iov->iov_base, small);
  struct iovec big = {full, host_size};
  return real_ptrace(PTRACE_SETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE, &big);
}

long ptrace(enum __ptrace_request request, ...) {
  va_list ap;
  va_start(ap, request);
  pid_t pid = va_arg(ap, pid_t);
  void *addr = va_arg(ap, void *);
  void *data = va_arg(ap, void *);
  va_end(ap);
  if ((request == PTRACE_GETREGSET || request == PTRACE_SETREGSET) &&
      (uintptr_t)addr == NT_X86_XSTATE && data != NULL) {
    return xstate(request, pid, (struct iovec *)data);
  }
  return real_ptrace(request, pid, addr, data);
}
