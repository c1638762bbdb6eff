#!/usr/bin/env bash
# Captures /proc/net/ip_vs_conn beside `ipvsadm -Lnc` and `ipvsadm -Lnc --persistent-conn` of the
# same moment, for test/golden/ipvs-conn-*.txt: TCP and UDP over IPv4 and IPv6, a persistent
# service (whose template is listed too) and a destination of the other family behind a tunnel.
# Run as root on a kernel with IPVS (the project's VM:
#   node scripts/vm/run.mjs --vm -- bash scripts/golden/ipvs-conn-capture.sh OUTDIR).
set -euo pipefail
out=${1:?usage: ipvs-conn-capture.sh OUTDIR}
mkdir -p "$out"
ns=ipvs-conn-capture-$$
ip netns add "$ns"
trap 'ip netns pids "$ns" | xargs -r kill -9; ip netns delete "$ns"' EXIT
E=(ip netns exec "$ns")
"${E[@]}" ip link set lo up
"${E[@]}" ip link add d0 type dummy
"${E[@]}" ip addr add 10.0.0.2/8 dev d0
"${E[@]}" ip -6 addr add fd00::2/64 dev d0 nodad
"${E[@]}" ip link set d0 up
"${E[@]}" ipvsadm -A -t 10.0.0.1:80 -s rr
"${E[@]}" ipvsadm -a -t 10.0.0.1:80 -r 10.9.9.1:80 -i
"${E[@]}" ipvsadm -a -t 10.0.0.1:80 -r 10.9.9.2:80 -i
"${E[@]}" ipvsadm -A -t 10.0.0.5:443 -s rr -p 300
"${E[@]}" ipvsadm -a -t 10.0.0.5:443 -r 10.9.9.3:443 -i
"${E[@]}" ipvsadm -A -u 10.0.0.7:53 -s rr
"${E[@]}" ipvsadm -a -u 10.0.0.7:53 -r 10.9.9.4:53 -i
"${E[@]}" ipvsadm -A -t '[fd00::1]:80' -s rr
"${E[@]}" ipvsadm -a -t '[fd00::1]:80' -r '[fd00::9]:80' -i
"${E[@]}" ipvsadm -A -t '[fd00::1]:8080' -s rr
"${E[@]}" ipvsadm -a -t '[fd00::1]:8080' -r 10.9.9.5:8080 -i
# SYNs to tunnels nobody answers: each stays a SYN_RECV connection for a minute
"${E[@]}" timeout 1 bash -c '
  for t in 10.0.0.1/80 10.0.0.1/80 10.0.0.5/443 fd00::1/80 fd00::1/8080; do (echo > /dev/tcp/${t%/*}/${t#*/}) 2>/dev/null & done
  echo hello > /dev/udp/10.0.0.7/53; wait' || true
# the three reads must see the same expiry: read again until they agree
for _ in 1 2 3 4 5 6 7 8 9 10; do
  "${E[@]}" cat /proc/net/ip_vs_conn > "$out/ipvs-conn-proc.txt"
  "${E[@]}" ipvsadm -Lnc > "$out/ipvs-conn-ipvsadm.txt"
  "${E[@]}" ipvsadm -Lnc --persistent-conn > "$out/ipvs-conn-ipvsadm-pe.txt"
  "${E[@]}" cat /proc/net/ip_vs_conn > "$out/ipvs-conn-proc-after.txt"
  cmp -s "$out/ipvs-conn-proc.txt" "$out/ipvs-conn-proc-after.txt" && break
  sleep 0.3
done
rm -f "$out/ipvs-conn-proc-after.txt"
uname -r > "$out/ipvs-conn-kernel.txt"
ipvsadm --version >> "$out/ipvs-conn-kernel.txt" 2>&1 || true
which iptables nft sysctl >> "$out/ipvs-conn-kernel.txt" 2>&1 || true
