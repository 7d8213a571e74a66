#!/bin/sh
# Installs the Debian packages the lab and the browser tests need, where they are missing.
# bird is BIRD 1.6.8 (not bird2, which conflicts with it); frr gives zebra/bgpd/bfdd/staticd/vtysh;
# nftables makes a lab device fail silently (`lab fail DEVICE --mode silent`).
set -eu
packages="bird frr iproute2 iputils-ping nftables chromium procps util-linux"
missing=""
for package in $packages; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $package"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-packages: missing Debian packages:$missing" >&2
  echo "install them with: sudo apt-get install -y$missing" >&2
  exit 1
fi
echo "install-system-packages: installing$missing" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
