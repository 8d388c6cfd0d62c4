#!/bin/sh
# usage.sh PATH: prints {"path", "used_percent", "avail_kb"} for PATH's
# filesystem. PATH arrives as one argument, never through a shell.
set -eu
df -P -- "$1" | awk -v p="$1" 'NR==2 {gsub("%","",$5); printf "{\"path\":\"%s\",\"used_percent\":%s,\"avail_kb\":%s}\n", p, $5, $4}'
