#include "procfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "errors.h"
#include "netns.h"

namespace ipvs {
namespace {

[[noreturn]] void Throw(Napi::Env env, const std::string& msg) {
  throw Napi::TypeError::New(env, "ipvs native: " + msg);
}

// Only /proc: what these verbs are for, and nothing a caller could point elsewhere by mistake.
std::string ProcPath(const Napi::CallbackInfo& info, const char* fn) {
  if (info.Length() < 1 || !info[0].IsString()) Throw(info.Env(), std::string(fn) + ": path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (path.rfind("/proc/", 0) != 0 || path.find('\0') != std::string::npos ||
      path.find("/../") != std::string::npos)
    Throw(info.Env(), std::string(fn) + ": path must be an absolute path under /proc/");
  return path;
}

std::string NetnsArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return "";
  if (!info[i].IsString()) Throw(info.Env(), std::string(fn) + ": netns must be a string path or null");
  std::string ns = info[i].As<Napi::String>().Utf8Value();
  if (ns.empty() || ns.find('\0') != std::string::npos)
    Throw(info.Env(), std::string(fn) + ": netns must be a non-empty path without NUL bytes");
  return ns;
}

}  // namespace

Napi::Value OpenFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ProcPath(info, "openFile");
  std::string mode = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  if (mode != "r" && mode != "w") Throw(env, "openFile: mode must be 'r' or 'w'");
  std::string ns = NetnsArg(info, 2, "openFile");
  int flags = (mode == "r" ? O_RDONLY : O_WRONLY) | O_CLOEXEC;
  int fd = -1;
  bool inside = false;  // whether an error is the file's, not the namespace's
  SysError e = InNetns(ns, [&]() -> SysError {
    inside = true;
    fd = ::open(path.c_str(), flags);
    return fd < 0 ? LastError("open") : SysError{};
  });
  if (e) throw SystemError(env, e, inside ? path : ns);
  return Napi::Number::New(env, fd);
}

Napi::Value ReadDir(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ProcPath(info, "readDir");
  std::string ns = NetnsArg(info, 1, "readDir");
  std::vector<std::string> names;
  bool inside = false;
  SysError e = InNetns(ns, [&]() -> SysError {
    inside = true;
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return LastError("opendir");
    errno = 0;
    while (dirent* d = ::readdir(dir)) {
      std::string name = d->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    SysError r = errno != 0 ? LastError("readdir") : SysError{};
    ::closedir(dir);
    return r;
  });
  if (e) throw SystemError(env, e, inside ? path : ns);
  Napi::Array out = Napi::Array::New(env, names.size());
  for (size_t i = 0; i < names.size(); i++) out.Set(i, names[i]);
  return out;
}

}  // namespace ipvs
