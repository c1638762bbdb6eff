// Files of /proc as another network namespace sees them: /proc/thread-self/net/* (connections)
// and /proc/sys/net/* (sysctls) show the namespace of the thread that opens them, and an open file
// keeps showing that namespace. So the open (and a directory listing) happens inside the
// namespace (netns.h); the reads and writes are plain fd I/O from JS.
#pragma once

#include <napi.h>

namespace ipvs {

// openFile(path, mode: 'r' | 'w', netns?: string | null): number, an fd the caller closes.
Napi::Value OpenFile(const Napi::CallbackInfo& info);
// readDir(path, netns?: string | null): string[], the names in the directory (no . and ..).
Napi::Value ReadDir(const Napi::CallbackInfo& info);

}  // namespace ipvs
