// The bench's floor: the same changes as the library's workloads, encoded before the clock starts
// and sent in large batches over raw netlink with the fewest system calls we know how to make
// (message-aligned chunks of 256 KiB, NLM_F_ACK only on the last message of each chunk; one
// sendmsg and a recvmsg or two per dump). What is left is the kernel's own work plus those calls.
//
//   cc -O2 -o floor bench/floor/floor.c
//   floor NETNS_PATH WORKLOAD ARGS...      (NETNS_PATH "-" stays in the caller's namespace)
//
// Workloads (addresses as bench/run.mjs makes them: service s has VIP 10.96.(s>>8).(s&255):80/tcp,
// its destination d is 172.16.0.0 + s*M + d + 1 port 8080, masquerade):
//   ipvs-create N M     add N services with M destinations each
//   ipvs-read           dump the services, then each service's destinations
//   ipvs-weight N M     set every destination's weight to 2
//   ipvs-delete N       delete every service
//   addr IFINDEX N      add N /32 addresses (the VIPs) to a link, dump them, delete them
//   ipset NAME N M      create a hash:ip,port set, add N*M entries (bulk), list it, destroy it
// Prints one JSON object: milliseconds per phase, messages sent, refusals.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/if_addr.h>
#include <linux/ip_vs.h>
#include <linux/netfilter/ipset/ip_set.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)
#define NFPROTO_IPV4 2  // <linux/netfilter.h>, which clashes with <netinet/in.h>
#define RXBUF (1 << 20)

static void die(const char *what) {
  fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
  exit(1);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// ---- a growable buffer of messages --------------------------------------------------------------

typedef struct {
  uint8_t *p;
  size_t len, cap;
  uint32_t count;
} buf_t;

static void *grow(buf_t *b, size_t n) {
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2;
    b->p = realloc(b->p, b->cap);
    if (!b->p) die("realloc");
  }
  void *at = b->p + b->len;
  memset(at, 0, n);
  b->len += n;
  return at;
}

static size_t msg_begin(buf_t *b, uint16_t type, uint16_t flags, uint32_t seq, const void *fixed, size_t fixed_len) {
  size_t off = b->len;
  struct nlmsghdr *h = grow(b, NLMSG_HDRLEN);
  h->nlmsg_type = type;
  h->nlmsg_flags = NLM_F_REQUEST | flags;
  h->nlmsg_seq = seq;
  memcpy(grow(b, NLMSG_ALIGN(fixed_len)), fixed, fixed_len);
  b->count++;
  return off;
}

static void msg_end(buf_t *b, size_t off) { ((struct nlmsghdr *)(b->p + off))->nlmsg_len = b->len - off; }

static void attr(buf_t *b, uint16_t type, const void *data, size_t len) {
  struct nlattr *a = grow(b, NLA_HDRLEN);
  a->nla_type = type;
  a->nla_len = NLA_HDRLEN + len;
  memcpy(grow(b, NLA_ALIGN(len)), data, len);
}
static void attr_u8(buf_t *b, uint16_t t, uint8_t v) { attr(b, t, &v, 1); }
static void attr_u16(buf_t *b, uint16_t t, uint16_t v) { attr(b, t, &v, 2); }
static void attr_u32(buf_t *b, uint16_t t, uint32_t v) { attr(b, t, &v, 4); }
static void attr_str(buf_t *b, uint16_t t, const char *s) { attr(b, t, s, strlen(s) + 1); }
static size_t nest_begin(buf_t *b, uint16_t type) {
  size_t off = b->len;
  struct nlattr *a = grow(b, NLA_HDRLEN);
  a->nla_type = type;
  return off;
}
static void nest_end(buf_t *b, size_t off) { ((struct nlattr *)(b->p + off))->nla_len = b->len - off; }

// ---- the socket -----------------------------------------------------------------------------------

static int sock_fd;
static uint8_t rx[RXBUF];
static long syscalls;
static uint32_t seq_next = 1;

static void open_socket(int protocol) {
  sock_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (sock_fd < 0) die("socket");
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (bind(sock_fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind");
  int one = 1, rcv = 4 << 20, snd = 4 << 20;
  setsockopt(sock_fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  setsockopt(sock_fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  if (setsockopt(sock_fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0)
    setsockopt(sock_fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  if (setsockopt(sock_fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof snd) < 0)
    setsockopt(sock_fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
}

// Callback for data replies of a dump or a GET.
typedef void (*on_reply_t)(struct nlmsghdr *h, void *arg);

// Receives until the message with `seq` is answered (ack/error, or NLMSG_DONE for a dump).
// Returns the number of refusals seen.
static long await_seq(uint32_t seq, on_reply_t on_reply, void *arg) {
  long errors = 0;
  for (;;) {
    ssize_t n = recv(sock_fd, rx, sizeof rx, 0);
    syscalls++;
    if (n < 0) {
      if (errno == EINTR) continue;
      die("recv");
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)rx; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = NLMSG_DATA(h);
        if (e->error) errors++;
        if (h->nlmsg_seq == seq) return errors;
      } else if (h->nlmsg_type == NLMSG_DONE) {
        if (h->nlmsg_seq == seq) return errors;
      } else if (on_reply) {
        on_reply(h, arg);
      }
    }
  }
}

static void send_all(const uint8_t *p, size_t len) {
  ssize_t n = send(sock_fd, p, len, 0);
  syscalls++;
  if (n < 0 || (size_t)n != len) die("send");
}

// Sends a buffer of messages in message-aligned chunks, acknowledging only each chunk's last one.
static long send_batch(buf_t *b) {
  long errors = 0;
  size_t off = 0;
  while (off < b->len) {
    size_t start = off, last = off;
    while (off < b->len) {
      struct nlmsghdr *h = (struct nlmsghdr *)(b->p + off);
      size_t len = NLMSG_ALIGN(h->nlmsg_len);
      if (off > start && off + len - start > CHUNK) break;
      last = off;
      off += len;
    }
    struct nlmsghdr *lh = (struct nlmsghdr *)(b->p + last);
    lh->nlmsg_flags |= NLM_F_ACK;
    send_all(b->p + start, off - start);
    errors += await_seq(lh->nlmsg_seq, NULL, NULL);
  }
  return errors;
}

// One request, then its answer (a dump, or a GET with NLM_F_ACK).
static long request(buf_t *b, size_t off, on_reply_t on_reply, void *arg) {
  struct nlmsghdr *h = (struct nlmsghdr *)(b->p + off);
  send_all(b->p + off, NLMSG_ALIGN(h->nlmsg_len));
  return await_seq(h->nlmsg_seq, on_reply, arg);
}

// ---- IPVS -----------------------------------------------------------------------------------------

static uint16_t ipvs_family;

static void family_reply(struct nlmsghdr *h, void *arg) {
  (void)arg;
  struct nlattr *a = (struct nlattr *)((uint8_t *)NLMSG_DATA(h) + GENL_HDRLEN);
  int left = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
  while (left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN) {
    if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID) ipvs_family = *(uint16_t *)((uint8_t *)a + NLA_HDRLEN);
    left -= NLA_ALIGN(a->nla_len);
    a = (struct nlattr *)((uint8_t *)a + NLA_ALIGN(a->nla_len));
  }
}

static void resolve_ipvs(void) {
  buf_t b = {0};
  struct genlmsghdr g = {.cmd = CTRL_CMD_GETFAMILY, .version = 1};
  size_t m = msg_begin(&b, GENL_ID_CTRL, NLM_F_ACK, seq_next++, &g, sizeof g);
  attr_str(&b, CTRL_ATTR_FAMILY_NAME, IPVS_GENL_NAME);
  msg_end(&b, m);
  if (request(&b, m, family_reply, NULL) || !ipvs_family) {
    fprintf(stderr, "floor: no IPVS generic netlink family\n");
    exit(1);
  }
  free(b.p);
}

static uint32_t vip(int s) { return htonl((10u << 24) | (96u << 16) | (uint32_t)s); }
static uint32_t rip(int s, int m, int d) { return htonl((172u << 24) | (16u << 16) | (uint32_t)(s * m + d + 1)); }

static size_t ipvs_msg(buf_t *b, uint8_t cmd, uint16_t flags) {
  struct genlmsghdr g = {.cmd = cmd, .version = IPVS_GENL_VERSION};
  return msg_begin(b, ipvs_family, flags, seq_next++, &g, sizeof g);
}

static void service_key(buf_t *b, int s) {
  size_t n = nest_begin(b, IPVS_CMD_ATTR_SERVICE);
  uint8_t addr[16] = {0};
  uint32_t a = vip(s);
  memcpy(addr, &a, 4);
  attr_u16(b, IPVS_SVC_ATTR_AF, AF_INET);
  attr_u16(b, IPVS_SVC_ATTR_PROTOCOL, IPPROTO_TCP);
  attr(b, IPVS_SVC_ATTR_ADDR, addr, 16);
  attr_u16(b, IPVS_SVC_ATTR_PORT, htons(80));
  nest_end(b, n);
}

static void service_full(buf_t *b, int s) {
  size_t n = nest_begin(b, IPVS_CMD_ATTR_SERVICE);
  uint8_t addr[16] = {0};
  uint32_t a = vip(s);
  memcpy(addr, &a, 4);
  struct ip_vs_flags fl = {0, ~0u};
  attr_u16(b, IPVS_SVC_ATTR_AF, AF_INET);
  attr_u16(b, IPVS_SVC_ATTR_PROTOCOL, IPPROTO_TCP);
  attr(b, IPVS_SVC_ATTR_ADDR, addr, 16);
  attr_u16(b, IPVS_SVC_ATTR_PORT, htons(80));
  attr_str(b, IPVS_SVC_ATTR_SCHED_NAME, "rr");
  attr(b, IPVS_SVC_ATTR_FLAGS, &fl, sizeof fl);
  attr_u32(b, IPVS_SVC_ATTR_TIMEOUT, 0);
  attr_u32(b, IPVS_SVC_ATTR_NETMASK, ~0u);
  nest_end(b, n);
}

static void dest_full(buf_t *b, int s, int m, int d, uint32_t weight) {
  size_t n = nest_begin(b, IPVS_CMD_ATTR_DEST);
  uint8_t addr[16] = {0};
  uint32_t a = rip(s, m, d);
  memcpy(addr, &a, 4);
  attr_u16(b, IPVS_DEST_ATTR_ADDR_FAMILY, AF_INET);
  attr(b, IPVS_DEST_ATTR_ADDR, addr, 16);
  attr_u16(b, IPVS_DEST_ATTR_PORT, htons(8080));
  attr_u32(b, IPVS_DEST_ATTR_FWD_METHOD, IP_VS_CONN_F_MASQ);
  attr_u32(b, IPVS_DEST_ATTR_WEIGHT, weight);
  attr_u32(b, IPVS_DEST_ATTR_U_THRESH, 0);
  attr_u32(b, IPVS_DEST_ATTR_L_THRESH, 0);
  nest_end(b, n);
}

// The key attributes of each service in a service dump, re-encoded as a destination dump request.
typedef struct {
  buf_t *out;
  long services, dests;
} read_state_t;

static struct nlattr *find(struct nlattr *a, int len, int type) {
  while (len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= len) {
    if ((a->nla_type & NLA_TYPE_MASK) == type) return a;
    len -= NLA_ALIGN(a->nla_len);
    a = (struct nlattr *)((uint8_t *)a + NLA_ALIGN(a->nla_len));
  }
  return NULL;
}

static void service_reply(struct nlmsghdr *h, void *arg) {
  read_state_t *st = arg;
  struct nlattr *svc = find((struct nlattr *)((uint8_t *)NLMSG_DATA(h) + GENL_HDRLEN),
                            h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, IPVS_CMD_ATTR_SERVICE);
  if (!svc) return;
  st->services++;
  struct nlattr *in = (struct nlattr *)((uint8_t *)svc + NLA_HDRLEN);
  int inlen = svc->nla_len - NLA_HDRLEN;
  size_t m = ipvs_msg(st->out, IPVS_CMD_GET_DEST, NLM_F_DUMP);
  size_t n = nest_begin(st->out, IPVS_CMD_ATTR_SERVICE);
  static const int keys[] = {IPVS_SVC_ATTR_AF, IPVS_SVC_ATTR_PROTOCOL, IPVS_SVC_ATTR_ADDR, IPVS_SVC_ATTR_PORT, IPVS_SVC_ATTR_FWMARK};
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
    struct nlattr *a = find(in, inlen, keys[k]);
    if (a) attr(st->out, keys[k], (uint8_t *)a + NLA_HDRLEN, a->nla_len - NLA_HDRLEN);
  }
  nest_end(st->out, n);
  msg_end(st->out, m);
}

static void dest_reply(struct nlmsghdr *h, void *arg) {
  (void)h;
  ((read_state_t *)arg)->dests++;
}

// ---- rtnetlink addresses ----------------------------------------------------------------------------

static size_t addr_msg(buf_t *b, uint16_t type, uint16_t flags, int ifindex, int s) {
  struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = 32, .ifa_index = (uint32_t)ifindex};
  size_t m = msg_begin(b, type, flags, seq_next++, &ifa, sizeof ifa);
  uint32_t a = vip(s);
  attr(b, IFA_LOCAL, &a, 4);
  attr(b, IFA_ADDRESS, &a, 4);
  msg_end(b, m);
  return m;
}

static void count_reply(struct nlmsghdr *h, void *arg) {
  (void)h;
  ++*(long *)arg;
}

// ---- ipset ------------------------------------------------------------------------------------------

static size_t ipset_msg(buf_t *b, uint8_t cmd, uint16_t flags, const char *name) {
  struct nfgenmsg nf = {.nfgen_family = NFPROTO_IPV4, .version = NFNETLINK_V0, .res_id = 0};
  size_t m = msg_begin(b, (NFNL_SUBSYS_IPSET << 8) | cmd, flags, seq_next++, &nf, sizeof nf);
  attr_u8(b, IPSET_ATTR_PROTOCOL, IPSET_PROTOCOL);
  if (name) attr_str(b, IPSET_ATTR_SETNAME, name);
  return m;
}

static uint8_t max_revision;
static void revision_reply(struct nlmsghdr *h, void *arg) {
  (void)arg;
  struct nlattr *a = find((struct nlattr *)((uint8_t *)NLMSG_DATA(h) + sizeof(struct nfgenmsg)),
                          h->nlmsg_len - NLMSG_HDRLEN - sizeof(struct nfgenmsg), IPSET_ATTR_REVISION);
  if (a) max_revision = *((uint8_t *)a + NLA_HDRLEN);
}

// ---- main -------------------------------------------------------------------------------------------

static void usage(void) {
  fprintf(stderr, "usage: floor NETNS_PATH|- ipvs-create N M | ipvs-read | ipvs-weight N M | ipvs-delete N | addr IFINDEX N | ipset NAME N M\n");
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 3) usage();
  if (strcmp(argv[1], "-") != 0) {
    int ns = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) die(argv[1]);
    close(ns);
  }
  const char *w = argv[2];
  buf_t b = {0};
  double t0, t1, t2, t3;
  long errors = 0;

  if (!strcmp(w, "ipvs-create") || !strcmp(w, "ipvs-weight")) {
    if (argc != 5) usage();
    int n = atoi(argv[3]), m = atoi(argv[4]);
    int create = !strcmp(w, "ipvs-create");
    open_socket(NETLINK_GENERIC);
    resolve_ipvs();
    for (int s = 0; s < n; s++) {
      if (create) {
        size_t off = ipvs_msg(&b, IPVS_CMD_NEW_SERVICE, 0);
        service_full(&b, s);
        msg_end(&b, off);
      }
      for (int d = 0; d < m; d++) {
        size_t off = ipvs_msg(&b, create ? IPVS_CMD_NEW_DEST : IPVS_CMD_SET_DEST, 0);
        service_key(&b, s);
        dest_full(&b, s, m, d, create ? 1 : 2);
        msg_end(&b, off);
      }
    }
    t0 = now_ms();
    errors = send_batch(&b);
    t1 = now_ms();
    printf("{\"workload\":\"%s\",\"ms\":%.3f,\"messages\":%u,\"errors\":%ld,\"syscalls\":%ld}\n", w, t1 - t0, b.count, errors, syscalls);
  } else if (!strcmp(w, "ipvs-delete")) {
    if (argc != 4) usage();
    int n = atoi(argv[3]);
    open_socket(NETLINK_GENERIC);
    resolve_ipvs();
    for (int s = 0; s < n; s++) {
      size_t off = ipvs_msg(&b, IPVS_CMD_DEL_SERVICE, 0);
      service_key(&b, s);
      msg_end(&b, off);
    }
    t0 = now_ms();
    errors = send_batch(&b);
    t1 = now_ms();
    printf("{\"workload\":\"%s\",\"ms\":%.3f,\"messages\":%u,\"errors\":%ld,\"syscalls\":%ld}\n", w, t1 - t0, b.count, errors, syscalls);
  } else if (!strcmp(w, "ipvs-read")) {
    open_socket(NETLINK_GENERIC);
    resolve_ipvs();
    buf_t dumps = {0};
    read_state_t st = {.out = &dumps};
    size_t svc = ipvs_msg(&b, IPVS_CMD_GET_SERVICE, NLM_F_DUMP);
    msg_end(&b, svc);
    t0 = now_ms();
    errors += request(&b, svc, service_reply, &st);
    for (size_t off = 0; off < dumps.len;) {
      struct nlmsghdr *h = (struct nlmsghdr *)(dumps.p + off);
      errors += request(&dumps, off, dest_reply, &st);
      off += NLMSG_ALIGN(h->nlmsg_len);
    }
    t1 = now_ms();
    printf("{\"workload\":\"%s\",\"ms\":%.3f,\"services\":%ld,\"destinations\":%ld,\"errors\":%ld,\"syscalls\":%ld}\n", w, t1 - t0, st.services, st.dests, errors, syscalls);
  } else if (!strcmp(w, "addr")) {
    if (argc != 5) usage();
    int ifindex = atoi(argv[3]), n = atoi(argv[4]);
    open_socket(NETLINK_ROUTE);
    buf_t add = {0}, del = {0}, list = {0};
    for (int s = 0; s < n; s++) {
      addr_msg(&add, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, s);
      addr_msg(&del, RTM_DELADDR, 0, ifindex, s);
    }
    struct ifaddrmsg ifa = {.ifa_family = AF_INET};
    size_t lm = msg_begin(&list, RTM_GETADDR, NLM_F_DUMP, seq_next++, &ifa, sizeof ifa);
    msg_end(&list, lm);
    long listed = 0;
    t0 = now_ms();
    errors += send_batch(&add);
    t1 = now_ms();
    errors += request(&list, lm, count_reply, &listed);
    t2 = now_ms();
    errors += send_batch(&del);
    t3 = now_ms();
    printf("{\"workload\":\"addr\",\"addMs\":%.3f,\"listMs\":%.3f,\"deleteMs\":%.3f,\"ms\":%.3f,\"listed\":%ld,\"errors\":%ld,\"syscalls\":%ld}\n",
           t1 - t0, t2 - t1, t3 - t2, t3 - t0, listed, errors, syscalls);
  } else if (!strcmp(w, "ipset")) {
    if (argc != 6) usage();
    const char *name = argv[3];
    int n = atoi(argv[4]), m = atoi(argv[5]);
    open_socket(NETLINK_NETFILTER);
    // The highest revision of hash:ip,port this kernel has (what the ipset tool asks first, too).
    buf_t q = {0};
    size_t tm = ipset_msg(&q, IPSET_CMD_TYPE, NLM_F_ACK, NULL);
    attr_str(&q, IPSET_ATTR_TYPENAME, "hash:ip,port");
    attr_u8(&q, IPSET_ATTR_FAMILY, NFPROTO_IPV4);
    msg_end(&q, tm);
    if (request(&q, tm, revision_reply, NULL)) {
      fprintf(stderr, "floor: the kernel has no hash:ip,port set type\n");
      return 1;
    }
    buf_t create = {0}, add = {0}, list = {0}, destroy = {0};
    size_t cm = ipset_msg(&create, IPSET_CMD_CREATE, 0, name);
    attr_str(&create, IPSET_ATTR_TYPENAME, "hash:ip,port");
    attr_u8(&create, IPSET_ATTR_REVISION, max_revision);
    attr_u8(&create, IPSET_ATTR_FAMILY, NFPROTO_IPV4);
    size_t cd = nest_begin(&create, IPSET_ATTR_DATA | NLA_F_NESTED);
    attr_u32(&create, IPSET_ATTR_HASHSIZE | NLA_F_NET_BYTEORDER, htonl(1024));
    attr_u32(&create, IPSET_ATTR_MAXELEM | NLA_F_NET_BYTEORDER, htonl(n * m > 65536 ? n * m : 65536));
    nest_end(&create, cd);
    msg_end(&create, cm);
    // Entries in the kernel's bulk form: many IPSET_ATTR_DATA in one IPSET_ATTR_ADT per message.
    // 2,000 entries of 32 bytes keep the ADT nest under its 16-bit length limit.
    const int per_msg = 2000;
    for (int k = 0; k < n * m; k += per_msg) {
      size_t am = ipset_msg(&add, IPSET_CMD_ADD, 0, name);
      attr_u32(&add, IPSET_ATTR_LINENO, 0);
      size_t adt = nest_begin(&add, IPSET_ATTR_ADT | NLA_F_NESTED);
      for (int e = k; e < k + per_msg && e < n * m; e++) {
        size_t data = nest_begin(&add, IPSET_ATTR_DATA | NLA_F_NESTED);
        size_t ip = nest_begin(&add, IPSET_ATTR_IP | NLA_F_NESTED);
        attr_u32(&add, IPSET_ATTR_IPADDR_IPV4 | NLA_F_NET_BYTEORDER, rip(e / m, m, e % m));
        nest_end(&add, ip);
        attr_u16(&add, IPSET_ATTR_PORT | NLA_F_NET_BYTEORDER, htons(8080));
        attr_u8(&add, IPSET_ATTR_PROTO, IPPROTO_TCP);
        nest_end(&add, data);
      }
      nest_end(&add, adt);
      msg_end(&add, am);
    }
    size_t lm = ipset_msg(&list, IPSET_CMD_LIST, NLM_F_DUMP, name);
    msg_end(&list, lm);
    size_t dm = ipset_msg(&destroy, IPSET_CMD_DESTROY, 0, name);
    msg_end(&destroy, dm);
    long parts = 0;
    double tc = now_ms();
    errors += send_batch(&create);
    t0 = now_ms();
    errors += send_batch(&add);
    t1 = now_ms();
    errors += request(&list, lm, count_reply, &parts);
    t2 = now_ms();
    errors += send_batch(&destroy);
    t3 = now_ms();
    printf("{\"workload\":\"ipset\",\"createMs\":%.3f,\"addMs\":%.3f,\"listMs\":%.3f,\"destroyMs\":%.3f,\"ms\":%.3f,\"entries\":%d,\"listParts\":%ld,\"errors\":%ld,\"syscalls\":%ld}\n",
           t0 - tc, t1 - t0, t2 - t1, t3 - t2, t3 - tc, n * m, parts, errors, syscalls);
  } else {
    usage();
  }
  return errors ? 3 : 0;
}
