// Errors leave C++ in one shape: { code, errno (negative, as Node's own), syscall }.
// The TypeScript layer (src/netlink/errors.ts) wraps them into NetlinkError.
#pragma once

#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace ipvs {

// A failed system call: errno as the kernel gave it (positive), and which call.
struct SysError {
  int err = 0;
  const char* syscall = "";
  explicit operator bool() const { return err != 0; }
};

inline SysError LastError(const char* syscall) { return SysError{errno, syscall}; }

// 'ENOENT' for ENOENT. glibc >= 2.32 has the full table; elsewhere (musl) a short one covers
// what netlink, setns and the socket calls actually return.
inline std::string ErrnoName(int err) {
  if (err == EOPNOTSUPP) return "ENOTSUP";  // Node's name for 95 (util.getSystemErrorName), as src/netlink/errors.ts
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  if (const char* name = strerrorname_np(err)) return name;
#else
  switch (err) {
#define IPVS_ERRNO(e) \
  case e:             \
    return #e;
    IPVS_ERRNO(EPERM) IPVS_ERRNO(ENOENT) IPVS_ERRNO(ESRCH) IPVS_ERRNO(EINTR) IPVS_ERRNO(EBADF)
    IPVS_ERRNO(EAGAIN) IPVS_ERRNO(ENOMEM) IPVS_ERRNO(EACCES) IPVS_ERRNO(EBUSY) IPVS_ERRNO(EEXIST)
    IPVS_ERRNO(ENODEV) IPVS_ERRNO(EINVAL) IPVS_ERRNO(EMFILE) IPVS_ERRNO(ERANGE) IPVS_ERRNO(EMSGSIZE)
    IPVS_ERRNO(ENOPROTOOPT) IPVS_ERRNO(EPROTONOSUPPORT) IPVS_ERRNO(EOPNOTSUPP)
    IPVS_ERRNO(EAFNOSUPPORT) IPVS_ERRNO(ENOBUFS) IPVS_ERRNO(ETIMEDOUT) IPVS_ERRNO(ECANCELED)
#undef IPVS_ERRNO
  }
#endif
  return "E" + std::to_string(err);
}

// { code, errno, syscall } as a plain object, for TransactResult.error.
inline Napi::Object ErrorInfo(Napi::Env env, const SysError& e) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("code", ErrnoName(e.err));
  o.Set("errno", -e.err);
  o.Set("syscall", e.syscall);
  return o;
}

// An Error to throw or reject with: message "syscall(context): strerror", plus code/errno/syscall.
inline Napi::Error SystemError(Napi::Env env, const SysError& e, const std::string& context) {
  std::string msg = std::string(e.syscall) + (context.empty() ? "" : "(" + context + ")") + ": " +
                    std::strerror(e.err);
  Napi::Error error = Napi::Error::New(env, msg);
  error.Set("code", ErrnoName(e.err));
  error.Set("errno", Napi::Number::New(env, -e.err));
  error.Set("syscall", e.syscall);
  return error;
}

}  // namespace ipvs
