#!/bin/sh
# Prints a JSON object describing the host. Reads its parameters from the
# environment the agent sets (PARAM_TOP); never evaluates them.
set -eu
top="${PARAM_TOP:-5}"
case "$top" in *[!0-9]*|'') top=5 ;; esac
load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "unknown")
mem_total=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null || echo 0)
mem_avail=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo 2>/dev/null || echo 0)
root_used=$(df -P / | awk 'NR==2 {gsub("%","",$5); print $5}')
procs=$(ps -eo pid=,pcpu=,comm= --sort=-pcpu 2>/dev/null | head -n "$top" |
  awk 'BEGIN{first=1} {if(!first) printf ","; first=0; gsub(/"/,"",$3); printf "{\"pid\":%s,\"cpu\":%s,\"command\":\"%s\"}", $1, $2, $3}')
printf '{"hostname":"%s","load":"%s","mem_total_kb":%s,"mem_available_kb":%s,"root_used_percent":%s,"top":[%s]}\n' \
  "$(hostname)" "$load" "${mem_total:-0}" "${mem_avail:-0}" "${root_used:-0}" "$procs"
