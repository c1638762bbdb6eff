#!/bin/bash
# Captures what iproute2's `ip` and the kernel say to each other over rtnetlink, as golden
# fixtures for test/unit/address-golden.test.ts and link-golden.test.ts. Runs inside the
# project's VM (the kernel tests' kernel):
#
#   node scripts/vm/run.mjs -- bash scripts/golden/rtnl-capture.sh
#
# Each scenario runs in the guest's root namespace (nlmon only sees its own namespace) with an
# nlmon link captured by tcpdump; the NETLINK_ROUTE datagrams become test/golden/rtnl-*.hex.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=test/golden
TMP=$(mktemp -d)
KERNEL="Linux $(uname -r) ($(uname -m), the project's User-Mode Linux VM)"
TOOL=$(ip -V)

ip link add nlmon0 type nlmon 2>/dev/null || true
ip link set nlmon0 up

# capture NAME 'description' command...
capture() {
  local name=$1 what=$2
  shift 2
  tcpdump --immediate-mode -i nlmon0 -w "$TMP/$name.pcap" -U 2>/dev/null &
  local td=$!
  sleep 0.5
  "$@" >/dev/null || true
  sleep 0.5
  kill "$td"
  wait "$td" || true
  node scripts/golden/ipset-rtnl-pcap2hex.mjs "$TMP/$name.pcap" 0 "$OUT/$name.hex" \
    "kernel: $KERNEL" "tool: $TOOL" "command: $what" \
    "capture: nlmon0 + tcpdump -w in the guest's root netns, cooked header stripped (scripts/golden/rtnl-capture.sh)" \
    "lines: '>' request (NLM_F_REQUEST), '<' kernel reply or notification; one netlink datagram per line, hex"
}

capture rtnl-link-add-dummy "ip link add kube-ipvs0 type dummy" ip link add kube-ipvs0 type dummy
capture rtnl-link-set-up "ip link set kube-ipvs0 up" ip link set kube-ipvs0 up
capture rtnl-link-show "ip -j link show dev kube-ipvs0" ip -j link show dev kube-ipvs0
capture rtnl-addr-add-v4 "ip addr add 10.96.0.1/32 dev kube-ipvs0 label kube-ipvs0:svc" \
  ip addr add 10.96.0.1/32 dev kube-ipvs0 label kube-ipvs0:svc
capture rtnl-addr-add-v6 "ip addr add fd00::1/128 dev kube-ipvs0 nodad noprefixroute" \
  ip addr add fd00::1/128 dev kube-ipvs0 nodad noprefixroute
capture rtnl-addr-replace "ip addr replace 10.96.0.2/24 dev kube-ipvs0" ip addr replace 10.96.0.2/24 dev kube-ipvs0
capture rtnl-addr-show "ip -j addr show dev kube-ipvs0" ip -j addr show dev kube-ipvs0

# A notification: ip monitor subscribed while an address goes away.
ip monitor address >/dev/null &
MON=$!
sleep 0.3
capture rtnl-addr-del "ip addr del 10.96.0.1/32 dev kube-ipvs0 (with 'ip monitor address' subscribed: the RTM_DELADDR notification)" \
  ip addr del 10.96.0.1/32 dev kube-ipvs0
kill $MON
wait $MON || true

capture rtnl-link-del "ip link del kube-ipvs0" ip link del kube-ipvs0

ip link del nlmon0
rm -rf "$TMP"
