#!/usr/bin/env bash
# The Pythons `make test` and `make package` need, on a CodeBuild standard image (Ubuntu, pyenv): 3.11 (the
# project and the Lambda packages), 3.9 (the Glue Python shell job: make test39 and its wheelhouse) and 3.12.
# The image has 3.11 and 3.12; 3.9 is built by pyenv (its tarball checked against pyenv's recorded sha256), a
# few minutes. All three become pyenv's global versions, so python3.11, python3.9 and python3.12 are on PATH,
# where the Makefile (PYTHON, PYTHON39) and scripts/package.sh look for them.
set -euo pipefail
PY39=${PYTHON39_VERSION:-3.9.18}   # the README's `pyenv install 3.9.18`
PY311=${PYTHON311_VERSION:-3.11.9} # built only if the image has no 3.11
PY312=${PYTHON312_VERSION:-3.12.8} # built only if the image has no 3.12
newest() { pyenv versions --bare | grep -E "^${1//./\\.}\.[0-9]+$" | sort -t. -k3,3n | tail -1 || true; }
build() { # pyenv's own definitions may predate the version: update them once and retry
  pyenv install --skip-existing "$1" || { git -C "$(pyenv root)" pull --quiet && pyenv install --skip-existing "$1"; }
}
[ -n "$(newest 3.11)" ] || build "$PY311"
[ -n "$(newest 3.12)" ] || build "$PY312"
build "$PY39"
pyenv global "$(newest 3.11)" "$(newest 3.12)" "$PY39"
pyenv rehash
for v in 3.11 3.9 3.12; do "python$v" -c 'import sys; print(sys.executable, sys.version.split()[0])'; done
