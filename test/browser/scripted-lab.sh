#!/bin/bash
# The browser tests' stand-in for the lab CLI (the runner's --lab-cli): the calls the lab target
# makes, answered with plain local shells, and a start-up that a test scripts with files in
# $SCRIPTED_LAB_DIR:
#   hold-fabric      while it exists, `up` waits in its BGP fabric phase (devices exist, shells open)
#   fail-next-up     the next `up` fails the way a real one does, and removes the file (so Retry works)
#   fail-next-fabric the next `up` fails in its BGP fabric phase, after the devices exist (shells are open)
#   hold-echo        while it exists, `echo` in a lab shell hangs (a block that hangs, for Stop)
set -u
dir="${SCRIPTED_LAB_DIR:?SCRIPTED_LAB_DIR is not set}"
[[ "${1:-}" == check ]] && { echo "scripted lab: no sandboxes, plain local shells"; exit 0; }
[[ "${1:-}" == --sandbox ]] || { echo "lab: --sandbox NAME first" >&2; exit 2; }
sandbox="$2"
shift 2
home="$dir/$sandbox"
mkdir -p "$home"

phase() { printf '{"phase":"%s","state":"%s"%s}\n' "$1" "$2" "${3:+,$3}"; }

case "$1" in
  up)
    echo '{"plan":[{"phase":"sandbox","label":"Sandbox"},{"phase":"devices","label":"Switches, nodes and links"},{"phase":"fabric","label":"BGP fabric"}]}'
    phase sandbox done '"seconds":0.3'
    phase devices running
    if [[ -e "$dir/fail-next-up" ]]; then
      rm -f "$dir/fail-next-up"
      echo '{"log":"leaf10        up    2/2 links  FRR started (zebra, bgpd, bfdd, staticd)"}'
      echo "lab: Not Established within the 1800 s wait: leaf10:10.0.0.0" >&2
      exit 1
    fi
    phase devices done '"seconds":1.2'
    phase fabric running '"detail":"3 of 16 sessions Established"'
    if [[ -e "$dir/fail-next-fabric" ]]; then
      rm -f "$dir/fail-next-fabric"
      echo "lab: Not Established within the 1800 s wait: spine1:swp1" >&2
      exit 1
    fi
    while [[ -e "$dir/hold-fabric" ]]; do sleep 0.1; done
    phase fabric done '"seconds":2.5'
    ;;
  shell)
    # One long sleep, not a polling loop: a Ctrl-C then always finds it in the foreground.
    echo() { if [[ -e "$SCRIPTED_LAB_DIR/hold-echo" ]]; then sleep 600; fi; builtin echo "$@"; }
    export -f echo
    cd "$home" && exec bash --noprofile --rcfile "$LAB_SHELL_INIT" -i ;;
  exec)
    shift 2
    [[ "${1:-}" == -- ]] && shift
    cd "$home" && exec "$@" ;;
  status) exec sleep infinity ;;
  down) rm -rf "$home" ;;
  *) echo "lab: the scripted lab has no \"$1\"" >&2; exit 2 ;;
esac
