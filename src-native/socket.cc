#include "socket.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "errors.h"
#include "netns.h"

namespace ipvs {
namespace {

// Marks objects made by open(), so a look-alike from JS (or another addon) is refused.
constexpr napi_type_tag kSocketTag = {0x6970'7673'6e6c'736fULL, 0x636b'6574'0000'0001ULL};

// af_netlink.c: MAX_LINKS is 32 protocols.
constexpr int kMaxProtocol = 31;
// Large enough for an ipset bulk add in one message; the kernel refuses a sendmsg longer than
// sk_sndbuf - 32 with EMSGSIZE (netlink_sendmsg).
constexpr int kMinSndbuf = 4 << 20;
constexpr int kSndbufSlack = 32;
// Upper bound of the truesize of one capped NLMSG_ERROR skb with extack TLVs (measured under
// ~1.3 KiB). An error reply may also echo the request (ipset's own error path does, and so does
// netlink_ack without NETLINK_CAP_ACK); kmalloc rounds that up to at most twice its length.
constexpr size_t kReplyTruesize = 1536;
constexpr size_t kDefaultChunkBytes = 256 * 1024;
constexpr double kDefaultTimeoutMs = 10000;
constexpr int kMaxReadsPerWake = 64;
constexpr size_t kRxSlack = 64 * 1024;
// The largest buffer kept between transacts, and how many of each kind (see Conn::TakeSpare).
constexpr size_t kKeepSpareBytes = 16 << 20;
constexpr size_t kKeepSpares = 2;

// RecvDatagram's results other than a length.
constexpr ssize_t kRecvError = -1;    // *err says what
constexpr ssize_t kRecvRetry = -2;    // EINTR
constexpr ssize_t kRecvDrained = -3;  // nothing queued (EAGAIN)

// One non-blocking recvmsg into rx, shared by the transact and receive workers (no N-API here:
// it runs in Execute). Returns the length read, or kRecvRetry / kRecvDrained, or kRecvError with
// *err set (ENOBUFS included; EMSGSIZE when the datagram did not fit rx).
static ssize_t RecvDatagram(int sock, std::vector<uint8_t>& rx, SysError* err) {
  iovec iov{rx.data(), rx.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t r = ::recvmsg(sock, &msg, MSG_DONTWAIT);
  if (r < 0) {
    if (errno == EINTR) return kRecvRetry;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return kRecvDrained;
    *err = LastError("recvmsg");
    return kRecvError;
  }
  if (msg.msg_flags & MSG_TRUNC) {
    *err = SysError{EMSGSIZE, "recvmsg"};
    return kRecvError;
  }
  return r;
}

// ---- argument checks -------------------------------------------------------------------------

[[noreturn]] void ThrowType(Napi::Env env, const std::string& msg) {
  throw Napi::TypeError::New(env, "ipvs native: " + msg);
}
[[noreturn]] void ThrowRange(Napi::Env env, const std::string& msg) {
  throw Napi::RangeError::New(env, "ipvs native: " + msg);
}

Napi::Object OptionsArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull())
    return Napi::Object::New(info.Env());
  if (!info[i].IsObject()) ThrowType(info.Env(), std::string(fn) + ": options must be an object");
  return info[i].As<Napi::Object>();
}

bool BoolOption(Napi::Object o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) ThrowType(o.Env(), std::string("options.") + key + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

// A positive integer up to max, or fallback when absent.
double IntOption(Napi::Object o, const char* key, double fallback, double max) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) ThrowType(o.Env(), std::string("options.") + key + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 1 && d <= max) || std::floor(d) != d)
    ThrowRange(o.Env(), std::string("options.") + key + " must be an integer from 1 to " +
                            std::to_string(static_cast<int64_t>(max)));
  return d;
}

Socket& SocketArg(const Napi::CallbackInfo& info, const char* fn) {
  if (info.Length() < 1 || !info[0].IsObject() ||
      !info[0].As<Napi::Object>().CheckTypeTag(&kSocketTag))
    ThrowType(info.Env(), std::string(fn) + ": first argument must be a socket from open()");
  return *Socket::Unwrap(info[0].As<Napi::Object>());
}

// An open socket's Conn, or a thrown EBADF.
Conn& OpenConn(const Napi::CallbackInfo& info, const char* fn) {
  Conn& conn = *SocketArg(info, fn).conn();
  if (conn.closed()) throw SystemError(info.Env(), SysError{EBADF, fn}, "");
  return conn;
}

// ---- open ------------------------------------------------------------------------------------

// socket(AF_NETLINK) inside the namespace at ns_path, or the caller's when empty (see netns.h).
SysError CreateSocket(int protocol, const std::string& ns_path, Fd* out) {
  return InNetns(ns_path, [&]() -> SysError {
    int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd < 0) return LastError("socket");
    out->reset(fd);
    return {};
  });
}

SysError SetInt(int fd, int level, int name, int value, const char* syscall) {
  if (::setsockopt(fd, level, name, &value, sizeof value) != 0) return LastError(syscall);
  return {};
}

int GetInt(int fd, int level, int name) {
  int value = 0;
  socklen_t len = sizeof value;
  if (::getsockopt(fd, level, name, &value, &len) != 0) return -1;
  return value;
}

// *_FORCE needs CAP_NET_ADMIN and ignores rmem_max/wmem_max; without it the plain option is
// capped by those sysctls, which is the best an unprivileged caller can get.
void SetBuffer(int fd, int force, int plain, int bytes) {
  if (::setsockopt(fd, SOL_SOCKET, force, &bytes, sizeof bytes) != 0)
    ::setsockopt(fd, SOL_SOCKET, plain, &bytes, sizeof bytes);
}

}  // namespace

// ---- Conn ------------------------------------------------------------------------------------

bool Conn::closed() {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

namespace {
std::mutex spare_mu;
// Never destroyed: a worker may still return its buffers while the process exits.
std::vector<std::vector<uint8_t>>* const spares = new std::vector<std::vector<uint8_t>>[2];  // guarded by spare_mu
}  // namespace

std::vector<uint8_t> Conn::TakeSpare(Spare which) {
  std::vector<uint8_t> v;
  {
    std::lock_guard<std::mutex> lock(spare_mu);
    auto& pool = spares[static_cast<int>(which)];
    if (!pool.empty()) {
      v.swap(pool.back());
      pool.pop_back();
    }
  }
  v.clear();
  return v;
}

void Conn::ReturnSpare(Spare which, std::vector<uint8_t> v) {
  if (v.capacity() == 0 || v.capacity() > kKeepSpareBytes) return;
  std::lock_guard<std::mutex> lock(spare_mu);
  auto& pool = spares[static_cast<int>(which)];
  if (pool.size() < kKeepSpares) pool.push_back(std::move(v));
}

int Conn::Acquire() {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return EBADF;
  if (busy_) return EBUSY;
  busy_ = true;
  stop_ = static_cast<int>(Stop::kNone);
  return 0;
}

void Conn::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  busy_ = false;
  if (closed_) {
    sock_.reset();
    wake_.reset();
    return;
  }
  // A cancel() that raced with the end of the transaction must not hit the next one.
  stop_ = static_cast<int>(Stop::kNone);
  uint64_t drained;
  while (::read(wake_.get(), &drained, sizeof drained) > 0) {
  }
}

void Conn::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!busy_ || closed_) return;
  stop_ = static_cast<int>(Stop::kCancel);
  WakeLocked();
}

void Conn::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return;
  closed_ = true;
  if (busy_) {
    stop_ = static_cast<int>(Stop::kClose);
    WakeLocked();
    return;
  }
  sock_.reset();
  wake_.reset();
}

void Conn::WakeLocked() {
  uint64_t one = 1;
  ssize_t ignored = ::write(wake_.get(), &one, sizeof one);  // EAGAIN only if already signalled
  (void)ignored;
}

// ---- Socket (the JS wrapper) -----------------------------------------------------------------

Napi::Function Socket::Class(Napi::Env env) { return DefineClass(env, "NativeSocket", {}); }

// Constructed only by open(), which passes the Conn in an External; JS cannot make one.
Socket::Socket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Socket>(info) {
  if (info.Length() != 1 || !info[0].IsExternal())
    ThrowType(info.Env(), "NativeSocket is created by open()");
  conn_ = *info[0].As<Napi::External<std::shared_ptr<Conn>>>().Data();
  info.This().As<Napi::Object>().TypeTag(&kSocketTag);
}

// Finalizer backstop: a socket nobody closed is closed when it is garbage collected (an in-flight
// transact holds a reference to its socket, so it cannot be collected mid-flight).
Socket::~Socket() {
  if (conn_) conn_->Close();
}

// ---- exports ---------------------------------------------------------------------------------

Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) ThrowType(env, "open: protocol must be a number");
  double protocol = info[0].As<Napi::Number>().DoubleValue();
  if (!(protocol >= 0 && protocol <= kMaxProtocol) || std::floor(protocol) != protocol)
    ThrowRange(env, "open: protocol must be an integer from 0 to 31");
  Napi::Object opts = OptionsArg(info, 1, "open");

  std::string ns_path;
  Napi::Value ns = opts.Get("netns");
  if (!ns.IsUndefined() && !ns.IsNull()) {
    if (!ns.IsString()) ThrowType(env, "open: options.netns must be a string path or null");
    ns_path = ns.As<Napi::String>().Utf8Value();
    if (ns_path.empty() || ns_path.find('\0') != std::string::npos)
      ThrowType(env, "open: options.netns must be a non-empty path without NUL bytes");
  }
  constexpr double kMaxBuf = std::numeric_limits<int>::max() / 2;  // the kernel doubles it
  int rcvbuf = static_cast<int>(IntOption(opts, "rcvbuf", 0, kMaxBuf));
  int sndbuf = static_cast<int>(IntOption(opts, "sndbuf", 0, kMaxBuf));
  bool ext_ack = BoolOption(opts, "extAck", true);
  bool cap_ack = BoolOption(opts, "capAck", true);
  bool strict = BoolOption(opts, "strictCheck", false);

  Fd sock;
  if (SysError e = CreateSocket(static_cast<int>(protocol), ns_path, &sock))
    throw SystemError(env, e, e.syscall == std::string("socket")
                                  ? "AF_NETLINK, " + std::to_string(static_cast<int>(protocol))
                                  : ns_path);
  int fd = sock.get();

  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;  // nl_pid 0: the kernel assigns a unique port id
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw SystemError(env, LastError("bind"), "AF_NETLINK");
  socklen_t addr_len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0)
    throw SystemError(env, LastError("getsockname"), "");

  if (ext_ack)
    if (SysError e = SetInt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1, "setsockopt"))
      throw SystemError(env, e, "NETLINK_EXT_ACK");
  if (cap_ack)
    if (SysError e = SetInt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1, "setsockopt"))
      throw SystemError(env, e, "NETLINK_CAP_ACK");
  if (strict)
    // NETLINK_GET_STRICT_CHK arrived in Linux 4.20; older kernels simply check less.
    if (SysError e = SetInt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1, "setsockopt"))
      if (e.err != ENOPROTOOPT) throw SystemError(env, e, "NETLINK_GET_STRICT_CHK");
  if (rcvbuf > 0) SetBuffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, rcvbuf);
  SetBuffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, std::max(sndbuf, kMinSndbuf));

  Fd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) throw SystemError(env, LastError("eventfd"), "");

  auto conn = std::make_shared<Conn>(std::move(sock), std::move(wake), addr.nl_pid,
                                     GetInt(fd, SOL_SOCKET, SO_SNDBUF));
  Napi::FunctionReference* ctor = env.GetInstanceData<Napi::FunctionReference>();
  return ctor->New({Napi::External<std::shared_ptr<Conn>>::New(env, &conn)});
}

namespace {

struct TransactOptions {
  double timeout_ms = kDefaultTimeoutMs;
  size_t max_chunk_bytes = kDefaultChunkBytes;
  size_t max_chunk_messages = 0;  // 0: no limit beyond the one derived from SO_RCVBUF
  bool stop_on_error = false;
};

// A run of consecutive request messages sent in one sendmsg: [begin, end) in the request.
struct Chunk {
  size_t begin;
  size_t end;
  uint32_t last_seq;  // completion: NLMSG_ERROR (or NLMSG_DONE for a dump) carrying this seq
  bool dump;
};

// A worker that holds its socket's claim (Conn::Acquire, taken before it was queued) while it
// runs, settles its Promise, and keeps the socket object from being collected mid-flight. Run()
// does the work on a libuv thread and makes no N-API calls; results become JS values in OnOK.
class ClaimWorker : public Napi::AsyncWorker {
 protected:
  ClaimWorker(Napi::Env env, const char* name, Napi::Promise::Deferred deferred, std::shared_ptr<Conn> conn,
              Napi::Object sock)
      : Napi::AsyncWorker(env, name),
        deferred_(deferred),
        conn_(std::move(conn)),
        sock_ref_(Napi::Persistent(sock)) {}

  ~ClaimWorker() override {
    if (!released_) conn_->Release();  // Execute never ran (environment teardown)
  }

  void Execute() final {
    struct Releaser {
      ClaimWorker* w;
      ~Releaser() {
        w->conn_->Release();
        w->released_ = true;
      }
    } releaser{this};
    err_ = Run();
  }

  void OnError(const Napi::Error& e) final { deferred_.Reject(e.Value()); }

  virtual SysError Run() = 0;

  // Why the worker must stop now: cancel() or close() came.
  SysError Stopped() const {
    switch (conn_->stop()) {
      case Stop::kCancel: return SysError{ECANCELED, "cancel"};
      case Stop::kClose: return SysError{ECANCELED, "close"};
      default: return {};
    }
  }

  Napi::Promise::Deferred deferred_;
  std::shared_ptr<Conn> conn_;
  SysError err_;

 private:
  Napi::ObjectReference sock_ref_;
  bool released_ = false;
};

// Everything the worker does runs on a libuv thread and makes no N-API calls; results are turned
// into JS values in OnOK on the main thread.
class TransactWorker : public ClaimWorker {
 public:
  TransactWorker(Napi::Env env, Napi::Promise::Deferred deferred, std::shared_ptr<Conn> conn,
                 Napi::Object sock, std::vector<uint8_t> request, TransactOptions opts)
      : ClaimWorker(env, "ipvs.transact", deferred, std::move(conn), sock),
        req_(std::move(request)),
        opts_(opts) {}

  ~TransactWorker() override { conn_->ReturnSpare(Conn::Spare::kRequest, std::move(req_)); }

  // Replies go into `into` (a Buffer the caller lends for the duration) while they fit: no fresh
  // memory per transact. Past its end they continue in a vector, copied to a new Buffer at the end.
  void Lend(Napi::Buffer<uint8_t> into) {
    into_ref_ = Napi::Persistent(into.As<Napi::Object>());
    into_ = into.Data();
    into_cap_ = into.Length();
    spilled_ = false;
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object result = Napi::Object::New(env);
    if (spilled_) {
      // JS-owned copy: NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED.
      result.Set("replies", Napi::Buffer<uint8_t>::Copy(env, replies_.data(), replies_.size()));
    } else {
      result.Set("replies", env.Null());
      result.Set("repliesLength", static_cast<double>(into_len_));
    }
    conn_->ReturnSpare(Conn::Spare::kReplies, std::move(replies_));
    result.Set("sentBytes", static_cast<double>(sent_));
    result.Set("doneBytes", static_cast<double>(done_));
    result.Set("dumpInterrupted", dump_intr_);
    result.Set("error", err_ ? Napi::Value(ErrorInfo(env, err_)) : env.Null());
    deferred_.Resolve(result);
  }

 private:
  SysError Run() override {
    if (spilled_) replies_ = conn_->TakeSpare(Conn::Spare::kReplies);
    std::vector<Chunk> chunks;
    size_t largest = 0;
    Plan(&chunks, &largest);

    std::vector<uint8_t>& rx = conn_->rx();
    // An ipset error reply echoes the whole request message, whatever NETLINK_CAP_ACK says.
    if (rx.size() < largest + kRxSlack) rx.resize(largest + kRxSlack);

    if (SysError e = Stopped()) return e;
    if (SysError e = DrainStale()) return e;
    for (const Chunk& chunk : chunks) {
      if (SysError e = Stopped()) return e;
      if (SysError e = Send(chunk)) return e;
      sent_ = chunk.end;
      if (SysError e = Await(chunk)) return e;
      done_ = chunk.end;
      if (opts_.stop_on_error && saw_error_) break;
    }
    return {};
  }

  // Splits the request into chunks, sets NLM_F_ACK on the last message of each non-dump chunk,
  // and collects the request's seqs.
  void Plan(std::vector<Chunk>* chunks, size_t* largest) {
    // While the kernel processes one sendmsg nobody reads the socket, so every reply to a chunk
    // must fit in the receive buffer at once, or the kernel drops it and reports ENOBUFS.
    const size_t rcvbuf = static_cast<size_t>(std::max(GetInt(conn_->sock(), SOL_SOCKET, SO_RCVBUF), 0));
    // The caller may ask for fewer (e.g. for non-dump GETs, whose data replies are larger).
    size_t max_messages = std::max<size_t>(1, rcvbuf / kReplyTruesize);
    if (opts_.max_chunk_messages > 0) max_messages = std::min(max_messages, opts_.max_chunk_messages);
    const size_t max_bytes = std::min(
        opts_.max_chunk_bytes, static_cast<size_t>(std::max(conn_->sndbuf() - kSndbufSlack, 1)));

    Chunk cur{0, 0, 0, false};
    size_t last_off = 0, count = 0, cost = 0;
    auto flush = [&] {
      if (count == 0) return;
      reinterpret_cast<nlmsghdr*>(&req_[last_off])->nlmsg_flags |= NLM_F_ACK;
      chunks->push_back(cur);
      count = 0;
      cost = 0;
    };
    for (size_t off = 0; off < req_.size();) {
      const nlmsghdr* h = reinterpret_cast<const nlmsghdr*>(&req_[off]);
      const size_t end = std::min<size_t>(off + NLMSG_ALIGN(h->nlmsg_len), req_.size());
      const size_t len = end - off;
      // Worst-case truesize of this message's reply (see kReplyTruesize).
      const size_t reply_cost = kReplyTruesize + 2 * len;
      *largest = std::max(*largest, len);
      seqs_.push_back(h->nlmsg_seq);
      // The kernel refuses a second dump on a socket while one is open (EBUSY): a dump is
      // always a chunk of its own, completed before anything else is sent.
      const bool dump = (h->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
      if (count > 0 && (dump || count + 1 > max_messages || end - cur.begin > max_bytes ||
                        cost + reply_cost > rcvbuf))
        flush();
      if (dump) {
        chunks->push_back(Chunk{off, end, h->nlmsg_seq, true});
      } else {
        if (count == 0) cur = Chunk{off, off, 0, false};
        cur.end = end;
        cur.last_seq = h->nlmsg_seq;
        last_off = off;
        ++count;
        cost += reply_cost;
      }
      off = end;
    }
    flush();
    std::sort(seqs_.begin(), seqs_.end());
  }

  // Replies left over from an earlier transaction that ended early (cancel, timeout) would
  // otherwise linger; reading also lets the kernel finish a dump that transaction left open,
  // which would make our own dump fail with EBUSY. A pending ENOBUFS is that transaction's too.
  SysError DrainStale() {
    std::vector<uint8_t>& rx = conn_->rx();
    for (int n = 0;; ++n) {
      if (n % kMaxReadsPerWake == 0)
        if (SysError e = Stopped()) return e;
      ssize_t r = ::recv(conn_->sock(), rx.data(), rx.size(), MSG_DONTWAIT);
      if (r >= 0 || errno == EINTR || errno == ENOBUFS) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
      return LastError("recvmsg");
    }
  }

  SysError Send(const Chunk& chunk) {
    iovec iov{&req_[chunk.begin], chunk.end - chunk.begin};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;  // no address: the kernel (nl_pid 0) is the default destination
    for (;;) {
      if (::sendmsg(conn_->sock(), &msg, 0) >= 0) return {};
      if (errno != EINTR) return LastError("sendmsg");
    }
  }

  // Receives until the chunk completes, keeping replies whose seq belongs to this request.
  // Reads what is queued before waiting: the kernel answers during sendmsg (and builds the next
  // dump part during recvmsg), so replies are usually there already. The clock is read and poll
  // called only when the socket is drained; where system calls are dear (User-Mode Linux, ~50 us
  // each) a poll and clock reads per datagram were most of a dump's cost. The time-out counts
  // from the first wait after the last progress.
  SysError Await(const Chunk& chunk) {
    using Clock = std::chrono::steady_clock;
    const auto timeout = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double, std::milli>(opts_.timeout_ms));
    std::vector<uint8_t>& rx = conn_->rx();
    bool waiting = false;  // a deadline runs since the first wait after progress
    Clock::time_point deadline;
    for (;;) {
      // A bounded number of datagrams between checks, so cancel and close are seen promptly.
      bool drained = false;
      for (int n = 0; n < kMaxReadsPerWake; ++n) {
        SysError err;
        ssize_t r = RecvDatagram(conn_->sock(), rx, &err);
        if (r == kRecvRetry) continue;
        if (r == kRecvDrained) {
          drained = true;
          break;
        }
        // ENOBUFS: the kernel dropped a reply; which requests it answered is unknown.
        if (r < 0) return err;
        bool progress = false;
        if (Absorb(rx.data(), static_cast<size_t>(r), chunk, &progress)) return {};
        if (progress) waiting = false;
      }
      if (SysError e = Stopped()) return e;
      if (!drained) continue;
      const auto now = Clock::now();
      if (!waiting) {
        deadline = now + timeout;
        waiting = true;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
      if (left.count() <= 0) return SysError{ETIMEDOUT, "poll"};
      pollfd fds[2] = {{conn_->sock(), POLLIN, 0}, {conn_->wake(), POLLIN, 0}};
      int ready = ::poll(fds, 2, static_cast<int>(std::min<int64_t>(left.count() + 1, INT32_MAX)));
      if (ready < 0 && errno != EINTR) return LastError("poll");
    }
  }

  // Keeps this request's replies from one datagram; true once the chunk's completion arrived.
  bool Absorb(const uint8_t* data, size_t size, const Chunk& chunk, bool* progress) {
    bool complete = false;
    for (size_t off = 0; size - off >= sizeof(nlmsghdr);) {
      const nlmsghdr* h = reinterpret_cast<const nlmsghdr*>(data + off);
      if (h->nlmsg_len < sizeof(nlmsghdr) || h->nlmsg_len > size - off) break;
      const size_t len = h->nlmsg_len;
      off += std::min<size_t>(NLMSG_ALIGN(len), size - off);
      // Stale replies of an abandoned transaction and notifications (seq 0) are not ours.
      if (!std::binary_search(seqs_.begin(), seqs_.end(), h->nlmsg_seq)) continue;
      *progress = true;
      Keep(reinterpret_cast<const uint8_t*>(h), len);
      if (h->nlmsg_flags & NLM_F_DUMP_INTR) dump_intr_ = true;
      if (h->nlmsg_type == NLMSG_ERROR) {
        const auto* e = reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(h));
        if (len >= NLMSG_HDRLEN + sizeof e->error && e->error != 0) saw_error_ = true;
        if (h->nlmsg_seq == chunk.last_seq) complete = true;
      } else if (h->nlmsg_type == NLMSG_DONE && chunk.dump && h->nlmsg_seq == chunk.last_seq) {
        complete = true;
      }
    }
    return complete;
  }

  // Appends one reply, NLMSG_ALIGNed, to the lent buffer while it fits, else to replies_.
  void Keep(const uint8_t* data, size_t len) {
    const size_t padded = NLMSG_ALIGN(len);
    if (!spilled_ && into_cap_ - into_len_ >= padded) {
      std::memcpy(into_ + into_len_, data, len);
      std::memset(into_ + into_len_ + len, 0, padded - len);
      into_len_ += padded;
      return;
    }
    if (!spilled_) {
      spilled_ = true;
      replies_ = conn_->TakeSpare(Conn::Spare::kReplies);
      replies_.assign(into_, into_ + into_len_);
    }
    replies_.insert(replies_.end(), data, data + len);
    replies_.resize(replies_.size() + (padded - len), 0);
  }

  std::vector<uint8_t> req_;  // our own copy: JS may reuse its buffer, and we set NLM_F_ACK
  TransactOptions opts_;

  std::vector<uint32_t> seqs_;  // sorted
  std::vector<uint8_t> replies_;
  Napi::ObjectReference into_ref_;  // keeps the lent Buffer alive
  uint8_t* into_ = nullptr;
  size_t into_cap_ = 0;
  size_t into_len_ = 0;
  bool spilled_ = true;  // replies are in replies_ (nothing lent, or it overflowed)
  size_t sent_ = 0;
  size_t done_ = 0;
  bool dump_intr_ = false;
  bool saw_error_ = false;
};

// A request must be a whole sequence of netlink messages: the engine steps through it by
// nlmsg_len, as the kernel does (netlink_rcv_skb).
void ValidateRequest(Napi::Env env, const uint8_t* data, size_t size) {
  if (size == 0) ThrowType(env, "transact: request holds no netlink message");
  for (size_t off = 0; off < size;) {
    nlmsghdr h;
    if (size - off < sizeof h)
      ThrowType(env, "transact: truncated nlmsghdr at offset " + std::to_string(off));
    std::memcpy(&h, data + off, sizeof h);  // a Buffer slice may be unaligned
    if (h.nlmsg_len < sizeof h || h.nlmsg_len > size - off)
      ThrowType(env, "transact: nlmsg_len " + std::to_string(h.nlmsg_len) + " at offset " +
                         std::to_string(off) + " is outside 16.." + std::to_string(size - off));
    off += NLMSG_ALIGN(h.nlmsg_len);
  }
}

}  // namespace

Napi::Value Transact(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Socket& socket = SocketArg(info, "transact");
  if (info.Length() < 2 || !info[1].IsBuffer()) ThrowType(env, "transact: request must be a Buffer");
  auto buf = info[1].As<Napi::Buffer<uint8_t>>();
  ValidateRequest(env, buf.Data(), buf.Length());
  Napi::Object o = OptionsArg(info, 2, "transact");
  TransactOptions opts;
  opts.timeout_ms = IntOption(o, "timeoutMs", kDefaultTimeoutMs, INT32_MAX);
  opts.max_chunk_bytes = static_cast<size_t>(IntOption(o, "maxChunkBytes", kDefaultChunkBytes, 1u << 30));
  opts.max_chunk_messages = static_cast<size_t>(IntOption(o, "maxChunkMessages", 0, 1u << 30));
  opts.stop_on_error = BoolOption(o, "stopOnError", false);
  Napi::Value into = o.Get("into");
  if (!into.IsUndefined() && !into.IsBuffer()) ThrowType(env, "transact: options.into must be a Buffer");

  auto deferred = Napi::Promise::Deferred::New(env);
  const std::shared_ptr<Conn>& conn = socket.conn();
  // Using a closed socket, or two transactions at once, are the caller's mistakes: reject.
  if (int err = conn->Acquire()) {
    deferred.Reject(SystemError(env, SysError{err, "transact"}, "").Value());
    return deferred.Promise();
  }
  std::vector<uint8_t> request = conn->TakeSpare(Conn::Spare::kRequest);
  request.assign(buf.Data(), buf.Data() + buf.Length());
  // AsyncWorker owns itself: it deletes itself after OnOK/OnError.
  auto* worker = new TransactWorker(env, deferred, conn, info[0].As<Napi::Object>(), std::move(request), opts);
  if (into.IsBuffer()) worker->Lend(into.As<Napi::Buffer<uint8_t>>());
  worker->Queue();
  return deferred.Promise();
}

Napi::Value Cancel(const Napi::CallbackInfo& info) {
  SocketArg(info, "cancel").conn()->Cancel();
  return info.Env().Undefined();
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  SocketArg(info, "close").conn()->Close();
  return info.Env().Undefined();
}

Napi::Value PortId(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), OpenConn(info, "portId").port_id());
}

Napi::Value Rcvbuf(const Napi::CallbackInfo& info) {
  Conn& conn = OpenConn(info, "rcvbuf");
  int value = GetInt(conn.sock(), SOL_SOCKET, SO_RCVBUF);
  if (value < 0) throw SystemError(info.Env(), LastError("getsockopt"), "SO_RCVBUF");
  return Napi::Number::New(info.Env(), value);
}

// ---- notifications -----------------------------------------------------------------------------

Napi::Value Subscribe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Conn& conn = OpenConn(info, "subscribe");
  if (info.Length() < 2 || !info[1].IsNumber()) ThrowType(env, "subscribe: group must be a number");
  double group = info[1].As<Napi::Number>().DoubleValue();
  // Group numbers are 1-based (RTNLGRP_*); the kernel caps them by the protocol's group count.
  if (!(group >= 1 && group <= 1024) || std::floor(group) != group)
    ThrowRange(env, "subscribe: group must be an integer from 1 to 1024");
  if (SysError e = SetInt(conn.sock(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, static_cast<int>(group), "setsockopt"))
    throw SystemError(env, e, "NETLINK_ADD_MEMBERSHIP");
  return env.Undefined();
}

namespace {

constexpr size_t kNotifyRx = 64 * 1024;

// Waits for datagrams nobody asked for (multicast notifications) and returns those that are
// queued when the first arrives, up to kMaxReadsPerWake. It ends early on cancel or close.
class ReceiveWorker : public ClaimWorker {
 public:
  ReceiveWorker(Napi::Env env, Napi::Promise::Deferred deferred, std::shared_ptr<Conn> conn,
                Napi::Object sock, double timeout_ms)
      : ClaimWorker(env, "ipvs.receive", deferred, std::move(conn), sock), timeout_ms_(timeout_ms) {}

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object result = Napi::Object::New(env);
    result.Set("messages", Napi::Buffer<uint8_t>::Copy(env, messages_.data(), messages_.size()));
    result.Set("error", err_ ? Napi::Value(ErrorInfo(env, err_)) : env.Null());
    deferred_.Resolve(result);
  }

 private:
  SysError Run() override {
    std::vector<uint8_t>& rx = conn_->rx();
    if (rx.size() < kNotifyRx) rx.resize(kNotifyRx);
    using Clock = std::chrono::steady_clock;
    const bool forever = timeout_ms_ <= 0;
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double, std::milli>(timeout_ms_));
    for (;;) {
      if (SysError e = Stopped()) return e;
      int wait = -1;
      if (!forever) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return SysError{ETIMEDOUT, "poll"};
        wait = static_cast<int>(std::min<int64_t>(left.count() + 1, INT32_MAX));
      }
      pollfd fds[2] = {{conn_->sock(), POLLIN, 0}, {conn_->wake(), POLLIN, 0}};
      int ready = ::poll(fds, 2, wait);
      if (ready < 0) {
        if (errno == EINTR) continue;
        return LastError("poll");
      }
      if (fds[1].revents & POLLIN) {
        if (SysError e = Stopped()) return e;
      }
      if (ready == 0 || fds[0].revents == 0) continue;
      for (int n = 0; n < kMaxReadsPerWake; ++n) {
        SysError err;
        ssize_t r = RecvDatagram(conn_->sock(), rx, &err);
        if (r == kRecvRetry) continue;
        if (r == kRecvDrained) break;
        // ENOBUFS: the kernel dropped notifications; the caller must read the state again.
        if (r < 0) return err;
        messages_.insert(messages_.end(), rx.data(), rx.data() + r);
        messages_.resize(NLMSG_ALIGN(messages_.size()), 0);
      }
      if (!messages_.empty()) return {};
    }
  }

  double timeout_ms_;
  std::vector<uint8_t> messages_;
};

}  // namespace

Napi::Value Receive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Socket& socket = SocketArg(info, "receive");
  Napi::Object o = OptionsArg(info, 1, "receive");
  const double timeout_ms = IntOption(o, "timeoutMs", 0, INT32_MAX);  // 0: until a datagram, cancel or close
  auto deferred = Napi::Promise::Deferred::New(env);
  const std::shared_ptr<Conn>& conn = socket.conn();
  if (int err = conn->Acquire()) {
    deferred.Reject(SystemError(env, SysError{err, "receive"}, "").Value());
    return deferred.Promise();
  }
  (new ReceiveWorker(env, deferred, conn, info[0].As<Napi::Object>(), timeout_ms))->Queue();
  return deferred.Promise();
}

}  // namespace ipvs
