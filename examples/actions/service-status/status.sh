#!/bin/sh
# status.sh SERVICE: prints {"service", "active"}. Services named demo-*
# are simulated with a state file (for the examples and tests).
set -eu
svc="$1"
state="${TMPDIR:-/tmp}/gaffer-demo-services"
case "$svc" in
  demo-*)
    if [ -f "$state/$svc.down" ]; then active=false; else active=true; fi ;;
  *)
    if systemctl is-active --quiet -- "$svc" 2>/dev/null; then active=true; else active=false; fi ;;
esac
printf '{"service":"%s","active":%s}\n' "$svc" "$active"
