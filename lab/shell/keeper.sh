#!/bin/bash
# PID 1 of a lab sandbox. Started by lab/sandbox.ts as
#   unshare --user --map-root-user --net --mount --pid --uts --ipc --fork --kill-child --mount-proc \
#     --propagation private bash keeper.sh NAME REPO
# It gives the sandbox its private mounts, prints "ready", then waits (reaping orphans, as an init
# must: FRR and BIRD daemonise, so their parents are gone and they become its children). When it
# exits, the kernel kills every process of the sandbox's PID namespace, and with the last process
# the sandbox's network and mount namespaces (and every device netns bound in its /run/netns) go.
set -euo pipefail
name=$1
repo=$2

# A checkout under /tmp or /var/tmp (a CI clone, say) would vanish under the private tmpfs below,
# and with it the lab's own code and the Node it runs with (in the checkout's .cache). It is held
# by a bind mount in the sandbox's new /run and bound back at its own path once /tmp is private.
case "$repo/" in
  /run/*) echo "keeper: the checkout $repo is under /run, which the sandbox replaces with its own; clone it elsewhere" >&2; exit 1 ;;
  /tmp/* | /var/tmp/*) keep_checkout=1 ;;
  *) keep_checkout=0 ;;
esac

# Private tmpfs over every place FRR, BIRD, `ip netns` and shells write to. The host's /etc/frr,
# /etc/bird, /run, /tmp and /var/tmp are hidden from the sandbox, and never written.
mount -t tmpfs -o mode=0755,size=64m "lab-$name-run" /run
if [ "$keep_checkout" = 1 ]; then
  mkdir -p /run/lab/checkout
  mount --bind "$repo" /run/lab/checkout
fi
mkdir -p /run/netns /run/frr /run/bird /run/lock /run/lab/bin /run/lab/devices/host/home /run/lab/services
for dir in /etc/frr /etc/bird /var/tmp /tmp; do
  [ -d "$dir" ] || { echo "keeper: $dir does not exist on this machine (is the ${dir#/etc/} package installed?)" >&2; exit 1; }
done
mount -t tmpfs -o mode=0755,size=16m "lab-$name-etc-frr" /etc/frr
mount -t tmpfs -o mode=0755,size=16m "lab-$name-etc-bird" /etc/bird
mount -t tmpfs -o mode=1777,size=64m "lab-$name-var-tmp" /var/tmp
mount -t tmpfs -o mode=1777,size=64m "lab-$name-tmp" /tmp
if [ "$keep_checkout" = 1 ]; then
  mkdir -p "$repo"
  mount --bind /run/lab/checkout "$repo"
fi

# FRR refuses to start unless the users and groups it drops to exist in the namespace. Only uid and
# gid 0 are mapped into the sandbox, so private copies of the user database give frr and frrvty id 0.
awk -F: 'BEGIN { OFS = ":" } $1 == "frr" { $3 = 0; $4 = 0 } { print }' /etc/passwd > /run/lab/passwd
awk -F: 'BEGIN { OFS = ":" } $1 == "frr" || $1 == "frrvty" { $3 = 0 } { print }' /etc/group > /run/lab/group
mount --bind /run/lab/passwd /etc/passwd
mount --bind /run/lab/group /etc/group

hostname lab-host  # sethostname(2): /proc/sys/kernel/hostname is not writable for a user namespace
ip link set lo up
ln -s "$repo/lab/bin/lab" /run/lab/bin/lab
printf '%s\n' "$name" > /run/lab/sandbox
printf '%s\n' "$repo" > /run/lab/repo

echo ready
exec </dev/null >/dev/null 2>/run/lab/keeper.log
trap 'exit 0' TERM INT HUP
while :; do
  sleep 3600 &
  wait $! || true
done
