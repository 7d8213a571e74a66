#!/bin/sh
# Installs the Debian packages a purpose needs, where they are missing:
#   sh scripts/install-system-packages.sh lab    the lab that `npm start` runs (the default)
#   sh scripts/install-system-packages.sh test   the lab, and what `npm test` needs besides
# As root it installs them; otherwise it prints the one `sudo apt-get install …` line and exits 1.
# bird is BIRD 1.6.8 (not bird2, which conflicts with it); frr gives zebra/bgpd/bfdd/staticd/vtysh;
# nftables makes a lab device fail silently (`lab fail DEVICE --mode silent`); chromium runs the
# browser tests; git makes the fresh-clone test's clone; bubblewrap builds each sandbox's private root;
# uidmap (newuidmap) gives an unprivileged runner's sandboxes identities of their own.
set -eu
purpose=${1:-lab}
lab_packages="bird frr iproute2 iputils-ping nftables procps util-linux bubblewrap uidmap"
case "$purpose" in
  lab) packages=$lab_packages ;;
  test) packages="$lab_packages chromium git" ;;
  *) echo "install-system-packages: unknown purpose \"$purpose\"; use lab or test" >&2; exit 2 ;;
esac
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-system-packages: this is not a Debian-based machine (no dpkg-query); install these packages or their equivalents yourself: $packages" >&2
  exit 1
fi
missing=""
for package in $packages; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $package"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "The lab needs Debian packages that are not installed. Install them with:" >&2
  echo "  sudo apt-get install -y --no-install-recommends$missing" >&2
  exit 1
fi
echo "Installing Debian packages:$missing (once; this takes a minute or two)" >&2
if ! apt-get update -qq >/dev/null; then
  echo "install-system-packages: apt-get update failed (see above); the packages were not installed" >&2
  exit 1
fi
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
  echo "install-system-packages: apt-get install$missing failed (see above)" >&2
  exit 1
fi
