#!/bin/sh
head -c "$1" /dev/zero | tr '\0' 'x'
echo "to stderr" >&2
env | grep -c '^SECRET_' >&2 || true
