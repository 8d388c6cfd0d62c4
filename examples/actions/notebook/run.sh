#!/bin/sh
# run.sh NAME PARAMETERS_JSON: runs notebooks/NAME.ipynb with the agent's
# own gaffer (GAFFER_BIN) on this host's Jupyter kernel and prints its
# scraps, which become the step's output; a cell that raises fails the
# action (the executed notebook's error goes to stderr, the step's log).
set -eu
nb="notebooks/$1.ipynb"
[ -f "$nb" ] || { echo "no notebook $nb on this host" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"${GAFFER_BIN:-gaffer}" notebook run "$nb" "$work/out.ipynb" -y "$2" >&2
"${GAFFER_BIN:-gaffer}" notebook scraps "$work/out.ipynb" --output json
