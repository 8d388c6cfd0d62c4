#!/bin/sh
# run.sh: runs the Genie job on stdin (the action's params) with the
# agent's own gaffer (GAFFER_BIN). The job's directory is made under
# jobs/ here; its program must be listed in allowed-commands. Edit both
# paths for a host whose actions directory is read-only.
set -eu
here=$(cd "$(dirname "$0")" && pwd -P)
exec "${GAFFER_BIN:-gaffer}" genie agent-exec --allowed "$here/allowed-commands" --jobs-dir "$here/jobs"
