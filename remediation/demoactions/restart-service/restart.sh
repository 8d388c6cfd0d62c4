#!/bin/sh
# restart.sh SERVICE: the demo agent's restart. It touches nothing on the
# host: it records the restart in the demo agent's state directory, two
# levels above this action's directory (its working directory).
set -eu
svc="$1"
state="../../state"
mkdir -p "$state"
date -u +%Y-%m-%dT%H:%M:%SZ > "$state/$svc.restarted"
echo "restarted $svc (simulated: the demo agent touches nothing on this host)"
