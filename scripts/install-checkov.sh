#!/usr/bin/env bash
# checkov pins many packages of its own, so it lives in a separate virtualenv (.venv-checkov).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x .venv-checkov/bin/checkov ]; then
  "$PYTHON" -m venv .venv-checkov
  .venv-checkov/bin/python -m pip install --quiet --upgrade pip
  .venv-checkov/bin/python -m pip install --quiet "checkov>=3.2,<4"
fi
.venv-checkov/bin/checkov --version
