// Netlink sockets and the batch engine: open (optionally inside a network namespace), transact
// (paced send, replies collected by sequence number, off the JS thread), cancel, close; and for
// notifications, subscribe (multicast groups) and receive (wait for datagrams nobody asked for).
// Only netlink headers (nlmsghdr, nlmsgerr) are read here; nothing family-specific.
#pragma once

#include <napi.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace ipvs {

// Owns one file descriptor; closes it on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Why an in-flight transact was told to stop.
enum class Stop : int { kNone = 0, kCancel = 1, kClose = 2 };

// One netlink socket, shared by its JS wrapper and at most one in-flight transact worker.
// close() while a worker runs only marks the socket closed and wakes the worker; the worker
// closes the fds when it lets go (Release), so an fd number is never reused under its feet.
class Conn {
 public:
  Conn(Fd sock, Fd wake, uint32_t port_id, int sndbuf)
      : sock_(std::move(sock)), wake_(std::move(wake)), port_id_(port_id), sndbuf_(sndbuf) {}

  int sock() const { return sock_.get(); }  // valid while open, or while this caller holds busy
  int wake() const { return wake_.get(); }
  uint32_t port_id() const { return port_id_; }
  int sndbuf() const { return sndbuf_; }
  Stop stop() const { return static_cast<Stop>(stop_.load()); }
  std::vector<uint8_t>& rx() { return rx_; }  // only the worker holding busy touches it

  bool closed();
  // Buffers a transact may reuse, holding the capacity an earlier one gave back: pages already
  // touched. Fresh memory costs a page fault per 4 KiB, and under User-Mode Linux (~23 us each)
  // faulting in a megabyte request or 20 MB of dump replies cost more than the kernel's work.
  // Shared by every socket of the process (a handle per network namespace is common).
  enum class Spare { kRequest = 0, kReplies = 1 };
  static std::vector<uint8_t> TakeSpare(Spare which);
  // Keeps `v`'s capacity for a later transact, up to a bound in size and count.
  static void ReturnSpare(Spare which, std::vector<uint8_t> v);
  // Claims the socket for one transact: 0, EBADF (closed) or EBUSY (another transact runs).
  int Acquire();
  // Lets go of the claim; closes the fds if close() came meanwhile.
  void Release();
  void Cancel();
  void Close();

 private:
  void WakeLocked();

  Fd sock_;
  Fd wake_;  // eventfd: cancel() and close() make the worker's poll() return
  const uint32_t port_id_;
  const int sndbuf_;
  std::vector<uint8_t> rx_;
  std::mutex mu_;
  bool busy_ = false;
  bool closed_ = false;
  std::atomic<int> stop_{0};
};

// The JS object handed out by open(): an opaque wrapper; its finalizer closes as a backstop.
class Socket : public Napi::ObjectWrap<Socket> {
 public:
  static Napi::Function Class(Napi::Env env);
  explicit Socket(const Napi::CallbackInfo& info);
  ~Socket() override;
  const std::shared_ptr<Conn>& conn() const { return conn_; }

 private:
  std::shared_ptr<Conn> conn_;
};

Napi::Value Open(const Napi::CallbackInfo& info);
Napi::Value Transact(const Napi::CallbackInfo& info);
Napi::Value Cancel(const Napi::CallbackInfo& info);
Napi::Value Close(const Napi::CallbackInfo& info);
Napi::Value PortId(const Napi::CallbackInfo& info);
Napi::Value Rcvbuf(const Napi::CallbackInfo& info);
Napi::Value Subscribe(const Napi::CallbackInfo& info);
Napi::Value Receive(const Napi::CallbackInfo& info);

}  // namespace ipvs
