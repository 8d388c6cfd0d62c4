#!/bin/sh
# status.sh SERVICE: prints {"service", "active", "restarted_at"} for a
# demo service; demo services are always active.
set -eu
svc="$1"
state="../../state/$svc.restarted"
restarted=""
if [ -f "$state" ]; then restarted=$(cat "$state"); fi
printf '{"service":"%s","active":true,"restarted_at":"%s"}\n' "$svc" "$restarted"
