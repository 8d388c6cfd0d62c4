#!/bin/sh
# deploy.sh APP VERSION: records VERSION as APP's current version and
# prints {"app", "version", "previous"}; a version ending in -bad fails.
set -eu
app="$1"; version="$2"
state="${TMPDIR:-/tmp}/gaffer-demo-apps"
mkdir -p "$state"
previous=$(cat "$state/$app" 2>/dev/null || echo none)
echo "$version" > "$state/$app"
case "$version" in
  *-bad) echo "$app $version failed to start" >&2; exit 1 ;;
esac
printf '{"app":"%s","version":"%s","previous":"%s"}\n' "$app" "$version" "$previous"
