#!/usr/bin/env bash
# Creates (once) the Python environment of the compare scripts and installs the pinned anchors
# given as arguments. --system-site-packages so Debian's CPU-only python3-torch and numpy are
# reused instead of PyPI's multi-gigabyte CUDA wheels. Prints the interpreter path.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${ORCHARD_VENV:-$root/.venv}
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv --system-site-packages "$venv" >&2
fi
if [ $# -gt 0 ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "$@" >&2
fi
echo "$venv/bin/python"
