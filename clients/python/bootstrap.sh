#!/usr/bin/env bash
# Creates clients/python/.venv (if missing) with the pinned tools from
# requirements-dev.txt and the client installed in editable mode. Idempotent.
# Uses $PYTHON (default python3) to create the venv.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
[ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements-dev.txt"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps -e "$here"
