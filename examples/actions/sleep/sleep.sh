#!/bin/sh
# sleep.sh N: sleeps N seconds, saying so each second.
set -eu
i=0
while [ "$i" -lt "$1" ]; do echo "slept $i"; sleep 1; i=$((i + 1)); done
echo "done"
