#!/bin/bash
# PID 1 of a lab sandbox. Started by lab/sandbox.ts inside bubblewrap (the namespaces, the user
# mapping and the private root of lab/sandbox-view.ts are in place already) as
#   bash keeper.sh NAME REPO
# It finishes the sandbox's own mounts, prints "ready", then waits (reaping orphans, as an init
# must: FRR and BIRD daemonise, so their parents are gone and they become its children). When it
# exits, the kernel kills every process of the sandbox's PID namespace, and with the last process
# the sandbox's network and mount namespaces (and every device netns bound in its /run/netns) go.
set -euo pipefail
name=$1
repo=$2

# bwrap's tmpfs mounts have no size; a learner filling /tmp is bounded here, not by the memory
# limit alone. The options of the mount table are left out (`--options-source disable`): they
# name the host uid that owns the tmpfs, which the kernel refuses from inside.
size() {
  mount --options-mode ignore --options-source disable -o "remount,nosuid,nodev,size=$2" "$1"
}
size /run 64m
size /tmp 64m
size /var/tmp 64m
size /var/log 16m
size /var/lib 16m
size /etc/frr 16m
size /etc/bird 16m
mkdir -p /run/netns /run/frr /run/bird /run/lock /run/lab/bin /run/lab/devices/host/home /run/lab/services

# A /sys of the sandbox's own network namespace. The kernel mounts a sysfs in a user namespace only
# where one is fully visible already: the host's read-only /sys (bound by bwrap) is that one for
# the first mount, which then takes its place. The second one, at /run/lab/sysfs, is what lets
# `ip netns exec` (which unmounts /sys in a mount namespace of its own) mount a device's sysfs.
mkdir -p /run/lab/sysfs
mount -t sysfs "lab-$name-sysfs" /run/lab/sysfs
umount -l /sys
mount -t sysfs "lab-$name-sysfs" /sys

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
