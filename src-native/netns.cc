#include "netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <system_error>
#include <thread>

#include "socket.h"

namespace ipvs {

SysError InNetns(const std::string& ns_path, const std::function<SysError()>& fn) {
  if (ns_path.empty()) return fn();
  Fd ns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) return LastError("open");
  SysError result;
  try {
    std::thread([&] {
      if (::setns(ns.get(), CLONE_NEWNET) != 0) {
        result = LastError("setns");
        return;
      }
      result = fn();
    }).join();
  } catch (const std::system_error& e) {
    return SysError{e.code().value(), "pthread_create"};
  }
  return result;
}

}  // namespace ipvs
