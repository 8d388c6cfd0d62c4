#!/bin/sh
# restart.sh SERVICE: restarts it. Demo services (demo-*) come back up by
# removing their "down" marker.
set -eu
svc="$1"
state="${TMPDIR:-/tmp}/gaffer-demo-services"
case "$svc" in
  demo-*) mkdir -p "$state"; rm -f "$state/$svc.down"; echo "restarted $svc" ;;
  *) systemctl restart -- "$svc"; echo "restarted $svc" ;;
esac
