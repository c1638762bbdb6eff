#!/bin/bash
# Captures the netlink traffic of ipvsadm on the real kernel, for the IPVS golden fixtures.
# Runs as root inside the project's VM (or a root host with IPVS):
#
#   node scripts/vm/run.mjs -- bash scripts/golden/ipvs-capture.sh <outdir>
#   node scripts/golden/ipvs-fixtures.mjs <outdir>     # pcaps -> test/golden/ipvs-*.hex + .json
#
# Every scenario runs in a fresh network namespace with an nlmon device tapping its netlink
# traffic, and writes <outdir>/<name>.pcap plus <name>.cmd (the commands, one per line).
set -euo pipefail
OUT=${1:?usage: ipvs-capture.sh OUTDIR}
mkdir -p "$OUT"
modprobe nlmon
uname -r >"$OUT/kernel"
ipvsadm --version >"$OUT/ipvsadm-version"

NS=golden-ipvs
TCPDUMP_PID=

start() { # name
  ip netns add "$NS"
  ip -n "$NS" link set lo up
  ip -n "$NS" link add nlmon0 type nlmon
  ip -n "$NS" link set nlmon0 up
  : >"$OUT/$1.cmd"
}
capture() { # name: starts tcpdump; what runs afterwards is recorded
  ip netns exec "$NS" tcpdump -i nlmon0 -U -s 0 -w "$OUT/$1.pcap" 2>/dev/null &
  TCPDUMP_PID=$!
  sleep 2
}
run() { # name, command...: runs it in the namespace and records it
  local name=$1; shift
  echo "$*" >>"$OUT/$name.cmd"
  ip netns exec "$NS" "$@" || true
}
setup() { # commands run before the capture starts (not recorded)
  ip netns exec "$NS" "$@"
}
finish() {
  sleep 1
  kill "$TCPDUMP_PID"; wait "$TCPDUMP_PID" 2>/dev/null || true
  ip netns delete "$NS"
}

# requests: one ipvsadm call per scenario
while IFS='|' read -r name pre cmd; do
  [ -z "$name" ] && continue
  start "$name"
  if [ -n "$pre" ]; then
    IFS=';' read -ra steps <<<"$pre"
    for s in "${steps[@]}"; do setup $s; done
  fi
  capture "$name"
  run "$name" $cmd
  finish
done <<'SCENARIOS'
add-service-tcp||ipvsadm -A -t 10.0.0.1:80 -s rr
add-service-v6-persistent||ipvsadm -A -t [fd00::1]:443 -s lc -p 100 -M 64
add-service-udp-sip||ipvsadm -A -u 10.0.0.3:5060 -s sed -p 60 -M 255.255.0.0 --pe sip -o
add-service-fwmark-sh||ipvsadm -A -f 7 -s sh -b sh-fallback,sh-port
add-service-fwmark6-mh||ipvsadm -A -f 3 -6 -s mh -b mh-port
add-service-sctp||ipvsadm -A --sctp-service 10.0.0.4:9 -s fo
edit-service|ipvsadm -A -t 10.0.0.1:80 -s rr|ipvsadm -E -t 10.0.0.1:80 -s wrr -p 30 -M 255.255.255.0
delete-service|ipvsadm -A -t 10.0.0.1:80 -s rr|ipvsadm -D -t 10.0.0.1:80
add-dest-masq|ipvsadm -A -t 10.0.0.1:80 -s rr|ipvsadm -a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 3 -x 100 -y 10
add-dest-gue|ipvsadm -A -t 10.0.0.1:80 -s rr|ipvsadm -a -t 10.0.0.1:80 -r 10.1.1.3 -i --tun-type gue --tun-port 6080 --tun-remcsum
add-dest-gre|ipvsadm -A -t 10.0.0.1:80 -s rr|ipvsadm -a -t 10.0.0.1:80 -r 10.1.1.4 -i --tun-type gre --tun-csum
add-dest-v6-over-v4|ipvsadm -A -t 10.0.0.1:80 -s rr|ipvsadm -a -t 10.0.0.1:80 -r [fd00::5]:80 -i -w 2
edit-dest|ipvsadm -A -t 10.0.0.1:80 -s rr;ipvsadm -a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m|ipvsadm -e -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 5
delete-dest|ipvsadm -A -t 10.0.0.1:80 -s rr;ipvsadm -a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m|ipvsadm -d -t 10.0.0.1:80 -r 192.168.1.1:8080
zero-all||ipvsadm -Z
zero-service|ipvsadm -A -t 10.0.0.1:80 -s rr|ipvsadm -Z -t 10.0.0.1:80
flush||ipvsadm -C
set-timeouts||ipvsadm --set 1000 100 200
get-timeouts||ipvsadm -L --timeout
start-daemon-master||ipvsadm --start-daemon master --mcast-interface lo --syncid 5 --sync-maxlen 1000 --mcast-port 9000 --mcast-ttl 3 --mcast-group 224.0.0.99
start-daemon-backup6||ipvsadm --start-daemon backup --mcast-interface lo --syncid 6 --mcast-group ff02::99
stop-daemon|ipvsadm --start-daemon master --mcast-interface lo|ipvsadm --stop-daemon master
list-daemons|ipvsadm --start-daemon master --mcast-interface lo --syncid 5 --sync-maxlen 1000 --mcast-port 9000 --mcast-ttl 3 --mcast-group 224.0.0.99;ipvsadm --start-daemon backup --mcast-interface lo --syncid 6 --mcast-group ff02::99|ipvsadm -L --daemon
SCENARIOS

# dumps: a state with traffic counted, then ipvsadm -Ln (GET_INFO, service dump, one destination dump per service)
start list
setup ip addr add 10.0.0.1/32 dev lo
setup ipvsadm -A -t 10.0.0.1:80 -s rr
setup ipvsadm -a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 3 -x 100 -y 10
setup ipvsadm -a -t 10.0.0.1:80 -r 10.1.1.3 -i --tun-type gue --tun-port 6080 --tun-csum
setup ipvsadm -a -t 10.0.0.1:80 -r [fd00::5]:80 -i --tun-type gre
setup ipvsadm -A -f 3 -6 -s mh -b mh-port -p 120 -M 96
setup ipvsadm -A -u 10.0.0.3:5060 -s sed -p 60 -M 255.255.0.0 --pe sip -o
setup timeout 2 bash -c 'echo > /dev/tcp/10.0.0.1/80' || true
setup timeout 2 bash -c 'echo > /dev/tcp/10.0.0.1/80' || true
capture list
run list ipvsadm -Ln
finish

echo "captured $(ls "$OUT"/*.pcap | wc -l) scenarios into $OUT"
