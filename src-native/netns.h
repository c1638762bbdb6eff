// Running a piece of work inside another network namespace. setns() changes only the calling
// thread, so the work runs on a short-lived thread that enters the namespace and then ends; Node's
// own threads never change namespace. What that thread creates (a socket, an open /proc file)
// stays bound to the namespace it was created in.
#pragma once

#include <functional>
#include <string>

#include "errors.h"

namespace ipvs {

// Runs fn inside the network namespace at ns_path (a path such as /run/netns/NAME or
// /proc/PID/ns/net), or on the calling thread when ns_path is empty. Returns fn's result, or the
// error of open/setns/pthread_create.
SysError InNetns(const std::string& ns_path, const std::function<SysError()>& fn);

}  // namespace ipvs
