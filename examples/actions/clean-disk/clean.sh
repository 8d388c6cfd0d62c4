#!/bin/sh
# clean.sh PATH DAYS DRY_RUN: lists (and unless DRY_RUN is true deletes)
# regular files under PATH not modified for DAYS days, then prints a JSON
# summary. The arguments come from the agent as separate argv entries.
set -eu
path="$1"; days="$2"; dry="$3"
case "$days" in *[!0-9]*|'') echo "days must be a number" >&2; exit 2 ;; esac
[ -d "$path" ] || { echo "no such directory: $path" >&2; exit 2; }
count=0; bytes=0
list=$(mktemp)
find "$path" -xdev -type f -mtime "+$days" -print > "$list"
while IFS= read -r f; do
  size=$(stat -c %s -- "$f" 2>/dev/null || echo 0)
  count=$((count + 1)); bytes=$((bytes + size))
  echo "$f" >&2
  [ "$dry" = "true" ] || rm -f -- "$f"
done < "$list"
rm -f "$list"
printf '{"path":"%s","files":%d,"bytes":%d,"dry_run":%s}\n' "$path" "$count" "$bytes" "$dry"
