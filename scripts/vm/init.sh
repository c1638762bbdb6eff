#!/bin/bash
# PID 1 of the User-Mode Linux guest started by scripts/vm/run.mjs.
#
# The guest's root is the host's own filesystem (hostfs, rootflags=/), so node, the repo and every
# installed tool are visible here, and writes land on the host. run.mjs passes one kernel argument,
# IPVS_VM_RUN=<per-run folder>, which the kernel hands to us as an environment variable. That folder
# holds:
#   payload.sh  the command to run (written by run.mjs, arguments already shell-quoted), with its cwd
#   stdout, stderr      the payload's output (run.mjs streams these files to the host's terminal)
#   init.log            what this script did; init.err: anything that went wrong here (run.mjs prints it)
#   kernel              `uname -r`; started: written just before the payload starts
#   status              the payload's exit status; written last. No status file = the VM failed.
#
# /tmp is deliberately NOT a tmpfs: it is the host's /tmp, and the repo (or the run folder) may live
# there. /run, /dev/shm and /lib/modules are guest-private.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

RUN="${IPVS_VM_RUN:-}"
LOG=/dev/console
ERR=/dev/console
if [ -n "$RUN" ] && [ -d "$RUN" ]; then
  LOG="$RUN/init.log"
  ERR="$RUN/init.err"
fi

log() { echo "init: $*" >>"$LOG"; }
# Failures go to init.err (printed by run.mjs) and to the console (kept in the console log).
fail() {
  echo "init: $*" >>"$ERR"
  echo "init: $*" >/dev/console 2>/dev/null
}
# Run a chore; if it fails, say which one and what it printed.
chore() {
  local out
  if ! out=$("$@" 2>&1); then
    fail "'$*' failed: ${out:-no output}"
    return 1
  fi
  return 0
}

finish() {
  sync
  # poweroff is systemctl on Debian; forced twice it calls reboot(2) itself, no manager needed.
  # The sysrq trigger is the fallback that needs no userland at all. Either ends the UML process.
  poweroff -f -f >/dev/null 2>&1
  echo o >/proc/sysrq-trigger 2>/dev/null
  sleep 5
  exit 1 # PID 1 exiting panics the kernel, which still ends the UML process
}

if [ -z "$RUN" ] || [ ! -d "$RUN" ]; then
  fail "IPVS_VM_RUN is unset or not a directory ('$RUN'); nothing to run"
  finish
fi

mountpoint -q /proc || chore mount -t proc proc /proc
mountpoint -q /sys || chore mount -t sysfs sysfs /sys
log "boot took $(cut -d' ' -f1 /proc/uptime)s of guest uptime"
# CONFIG_DEVTMPFS_MOUNT usually mounted /dev already; without it /dev would be the host's nodes.
if [ "$(stat -f -c %T /dev 2>/dev/null)" != "tmpfs" ]; then
  chore mount -t devtmpfs devtmpfs /dev
fi
mkdir -p /dev/pts /dev/shm 2>/dev/null
mountpoint -q /dev/pts || chore mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mountpoint -q /dev/shm || chore mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# The host's /run (pid files, its own /run/netns) means nothing here; `ip netns add` needs /run/netns.
chore mount -t tmpfs -o mode=755 tmpfs /run && mkdir -p /run/netns /run/lock
[ -d /sys/fs/cgroup ] && ! mountpoint -q /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null

# modprobe looks in /lib/modules/$(uname -r); Debian ships the guest's modules elsewhere. Where the
# host has a /lib/modules, a guest-private tmpfs over it holds a symlink. Where it has none (a host
# kernel without modules), we may not create one (it would land on the host), so modprobe and
# modinfo get wrappers with a different base directory, first in PATH and as the kernel's own
# module loader (/proc/sys/kernel/modprobe, used for auto-loading).
KVER=$(uname -r)
echo "$KVER" >"$RUN/kernel"
if [ ! -d "/usr/lib/uml/modules/$KVER" ]; then
  fail "no modules at /usr/lib/uml/modules/$KVER (is the user-mode-linux package the same version as linux.uml?)"
elif [ -d /lib/modules ]; then
  chore mount -t tmpfs -o mode=755 tmpfs /lib/modules && ln -s "/usr/lib/uml/modules/$KVER" "/lib/modules/$KVER"
else
  VMBIN=/run/ipvs-vm/bin
  mkdir -p "$VMBIN" /run/ipvs-vm/root/lib/modules
  ln -s "/usr/lib/uml/modules/$KVER" "/run/ipvs-vm/root/lib/modules/$KVER"
  for tool in modprobe modinfo; do
    real=$(command -v "$tool")
    flag=-d; [ "$tool" = modinfo ] && flag=-b
    printf '#!/bin/sh\nexec %s %s /run/ipvs-vm/root "$@"\n' "$real" "$flag" >"$VMBIN/$tool"
    chmod 755 "$VMBIN/$tool"
  done
  echo "$VMBIN/modprobe" >/proc/sys/kernel/modprobe
  export PATH="$VMBIN:$PATH"
  export IPVS_VM_BIN="$VMBIN"
  log "no /lib/modules on the host: modprobe/modinfo wrapped in $VMBIN"
fi

# Load everything the tests can touch up front, so no test depends on module auto-loading. One
# modprobe call for the lot (each process start costs in this guest), then check each by name.
# numdummies=0: no stray dummy0 in the guest's root namespace.
MODDIR="/usr/lib/uml/modules/$KVER/kernel"
wanted=(veth nf_conntrack nfnetlink ip_vs ip_vs_pe_sip ip_vs_ftp ip_set nlmon)
for m in rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos; do
  # Scheduler modules vary by kernel (twos arrived in 6.x and is off in Debian's 6.1 build).
  if [ -e "$MODDIR/net/netfilter/ipvs/ip_vs_$m.ko" ]; then wanted+=("ip_vs_$m"); else log "no module ip_vs_$m in $KVER"; fi
done
for f in "$MODDIR"/net/netfilter/ipset/ip_set_*.ko*; do
  [ -e "$f" ] || continue
  m=$(basename "$f"); wanted+=("${m%%.ko*}")
done
chore modprobe dummy numdummies=0
chore modprobe -a "${wanted[@]}"
missing=()
for m in dummy "${wanted[@]}"; do [ -d "/sys/module/$m" ] || missing+=("$m"); done
[ ${#missing[@]} -eq 0 ] || fail "modules not loaded: ${missing[*]}"
log "loaded modules: dummy ${wanted[*]}"
[ -e /proc/net/ip_vs ] || fail "/proc/net/ip_vs is missing after modprobe ip_vs"

# With lo down the kernel refuses every IPVS destination with EINVAL ("address not unicast").
chore ip link set lo up

export HOME="${IPVS_VM_HOME:-/root}"
export IPVS_TEST_WHERE="vm:$KVER"
date +%s.%N >"$RUN/started"
log "payload starting at guest uptime $(cut -d' ' -f1 /proc/uptime)s"

# payload.sh cds to the caller's working directory and execs the command.
/bin/bash "$RUN/payload.sh" <"/dev/null" >"$RUN/stdout" 2>"$RUN/stderr"
status=$?
log "payload exited with status $status at guest uptime $(cut -d' ' -f1 /proc/uptime)s"
echo "$status" >"$RUN/status.tmp" && mv "$RUN/status.tmp" "$RUN/status"
finish
