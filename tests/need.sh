#!/bin/sh
# need.sh PATH... -- COMMAND [ARGS...]
# Runs COMMAND when every PATH exists; otherwise says which one is missing
# and exits 77, the code ctest reports as "skipped".
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  if [ ! -e "$1" ]; then
    echo "SKIPPED: $1 is missing"
    echo "0 passed, 0 failed, 1 skipped"
    exit 77
  fi
  shift
done
[ "$1" = "--" ] && shift
[ $# -gt 0 ] || { echo "need.sh: no command given" >&2; exit 2; }
exec "$@"
