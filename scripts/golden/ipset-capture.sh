#!/bin/bash
# Captures what the ipset tool and the kernel say to each other, as golden fixtures for
# test/unit/ipset-golden.test.ts. Runs inside the project's VM (the kernel tests' kernel):
#
#   node scripts/vm/run.mjs -- bash scripts/golden/ipset-capture.sh [base] [mac]
#
# The arguments pick the groups of scenarios (default: all), so a new group is captured without
# rewriting the fixtures of the others.
# Each scenario runs in the guest's root namespace (nlmon only sees its own namespace) with an
# nlmon link captured by tcpdump; the NETLINK_NETFILTER datagrams become test/golden/ipset-*.hex.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=test/golden
TMP=$(mktemp -d)
KERNEL="Linux $(uname -r) ($(uname -m), the project's User-Mode Linux VM)"
TOOL=$(ipset version | head -1)

ip link add nlmon0 type nlmon 2>/dev/null || true
ip link set nlmon0 up

# capture NAME 'description' command...
capture() {
  local name=$1 what=$2
  shift 2
  tcpdump --immediate-mode -i nlmon0 -w "$TMP/$name.pcap" -U 2>/dev/null &
  local td=$!
  sleep 0.5
  "$@" || true
  sleep 0.5
  kill "$td"
  wait "$td" || true
  node scripts/golden/ipset-rtnl-pcap2hex.mjs "$TMP/$name.pcap" 12 "$OUT/$name.hex" \
    "kernel: $KERNEL" "tool: $TOOL" "command: $what" \
    "capture: nlmon0 + tcpdump -w in the guest's root netns, cooked header stripped (scripts/golden/ipset-capture.sh)" \
    "lines: '>' request (NLM_F_REQUEST), '<' kernel reply; one netlink datagram per line, hex"
}

ipset destroy 2>/dev/null || true

base() {

  capture ipset-create-hash-ipport "ipset create web hash:ip,port family inet hashsize 1024 maxelem 2048 timeout 60 counters comment skbinfo forceadd" \
    ipset create web hash:ip,port family inet hashsize 1024 maxelem 2048 timeout 60 counters comment skbinfo forceadd
  capture ipset-add-ipport "ipset add web 10.0.0.1,udp:53 timeout 30 comment dns" \
    ipset add web 10.0.0.1,udp:53 timeout 30 comment dns
  capture ipset-test-missing "ipset test web 10.0.0.2,tcp:80 (not in the set)" \
    ipset test web 10.0.0.2,tcp:80
  ipset add web 10.0.0.3,tcp:443 packets 7 bytes 900 skbmark 0x10/0xff skbprio 1:2 skbqueue 3
  capture ipset-list-ipport "ipset list web" \
    ipset list web

  ipset create nets6 hash:net family inet6
  capture ipset-add-net6-nomatch "ipset add nets6 2001:db8::/64 nomatch" \
    ipset add nets6 2001:db8::/64 nomatch

  printf 'create bulk hash:ip\nadd bulk 192.168.0.1\nadd bulk 192.168.0.2\nadd bulk 192.168.0.3\n' >"$TMP/bulk.restore"
  capture ipset-restore-bulk "ipset restore: create bulk hash:ip, then three adds (one message, IPSET_ATTR_ADT)" \
    sh -c "ipset restore <$TMP/bulk.restore"
  printf 'add bulk 192.168.0.4\nadd bulk 192.168.0.1\nadd bulk 192.168.0.5\n' >"$TMP/fail.restore"
  capture ipset-restore-fail "ipset restore: three adds to bulk, the second already present (error names line 2)" \
    sh -c "ipset restore <$TMP/fail.restore"

  capture ipset-create-bitmap-port "ipset create ports bitmap:port range 1000-2000" \
    ipset create ports bitmap:port range 1000-2000
  capture ipset-create-list-set "ipset create all list:set size 4" \
    ipset create all list:set size 4
  capture ipset-swap "ipset swap web web2 (web2 missing)" \
    ipset swap web web2
  ipset destroy
}

# The MAC types: hash:mac (no family), hash:ip,mac, bitmap:ip,mac (entries with and without a MAC).
mac() {
  capture ipset-create-hash-mac "ipset create macs hash:mac hashsize 64 timeout 600" \
    ipset create macs hash:mac hashsize 64 timeout 600
  capture ipset-add-hash-mac "ipset add macs aa:bb:cc:dd:ee:ff timeout 300" \
    ipset add macs aa:bb:cc:dd:ee:ff timeout 300
  ipset add macs 0:1:2:3:4:5
  capture ipset-list-hash-mac "ipset list macs" \
    ipset list macs
  ipset create ipmacs6 hash:ip,mac family inet6
  capture ipset-add-hash-ipmac6 "ipset add ipmacs6 2001:db8::1,01:02:03:04:05:06" \
    ipset add ipmacs6 2001:db8::1,01:02:03:04:05:06
  capture ipset-create-bitmap-ipmac "ipset create hosts bitmap:ip,mac range 10.0.0.0/24 counters comment" \
    ipset create hosts bitmap:ip,mac range 10.0.0.0/24 counters comment
  capture ipset-add-bitmap-ipmac-nomac "ipset add hosts 10.0.0.2 comment unfilled (no MAC: the kernel fills it from traffic)" \
    ipset add hosts 10.0.0.2 comment unfilled
  ipset add hosts 10.0.0.1,11:22:33:44:55:66 packets 3 bytes 4
  capture ipset-list-bitmap-ipmac "ipset list hosts (one entry with a MAC, one without)" \
    ipset list hosts
  ipset destroy
}

for group in "${@:-base mac}"; do
  for g in $group; do "$g"; done
done

ip link del nlmon0
rm -rf "$TMP"
