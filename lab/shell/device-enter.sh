#!/bin/sh
# Runs a command as if logged in to a lab device. Called inside the device's network namespace and
# a fresh UTS namespace (see lab/layout.ts deviceCommand):
#   device-enter.sh DEVICE HOSTNAME -- CMD [ARG...]
# Sets the device's hostname, home, and PATH (the device's wrappers, such as vtysh with its
# pathspace, then the sandbox's tools, such as lab), then runs CMD.
set -eu
device=$1
hostname=$2
shift 3
hostname "$hostname"
LAB_DEVICE=$device
HOME=/run/lab/devices/$device/home
PATH=/run/lab/devices/$device/bin:/run/lab/bin:${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}
export LAB_DEVICE HOME PATH
cd "$HOME" 2>/dev/null || cd /
exec "$@"
