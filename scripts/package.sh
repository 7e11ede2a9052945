#!/usr/bin/env bash
# Build the AWS deployment artefacts from this checkout (Terraform uploads them):
#   $OUT/vitalflow-<version>-py3-none-any.whl   the project wheel
#   $OUT/lambda/<function>.zip                  one per function, with only what that function imports:
#       start_validation  vitalflow + Powertools (boto3 is in the Lambda runtime); no layer
#       analyze           vitalflow + Powertools, pydantic, sqlglot; pandas/pyarrow/awswrangler come from
#                         the AWS SDK for pandas layer Terraform attaches (the only function with it)
#       notify            vitalflow + Powertools, pydantic, sqlglot, jinja2, matplotlib and numpy; no layer
#   $OUT/glue-py<X.Y>/*.whl                     the Glue job's pinned wheelhouse: the project wheel and every
#                                               dependency, for Python 3.9 (pythonshell, the default) or 3.11
#                                               (GLUE_PYTHON=3.11, for glue_job_type = "glueetl")
# Versions: the Lambda packages pin what the dev venv runs (Python 3.11, like the Lambda runtime); the
# wheelhouse pins scripts/glue-py<X.Y>.lock, written on first build and committed, so a new upstream
# release changes nothing until the lock is regenerated (delete it and run make package).
# Usage: scripts/package.sh [all|lambdas|glue]; OUT=dir builds elsewhere (tests use a temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WHAT=${1:-all}
OUT=${OUT:-dist}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PY=${PY:-$ROOT/.venv/bin/python}
GLUE_PYTHON=${GLUE_PYTHON:-3.9}
BUILD="$OUT/.build"
quiet_pip() {  # pip's output without this machine's find-links noise; pip's exit status is kept
  local status=0 log
  log=$(mktemp "$BUILD/pip.XXXXXX")
  "$@" > "$log" 2>&1 || status=$?
  grep -v "is ignored: it is neither a file nor a directory" "$log" || true
  return $status
}

rm -rf "$BUILD" "$OUT"/vitalflow-*.whl
mkdir -p "$BUILD"
quiet_pip "$PY" -m pip wheel --quiet --no-deps --wheel-dir "$OUT" "$ROOT"
WHEEL=$(ls "$OUT"/vitalflow-*.whl)
test -f "$WHEEL"

lambda_package() {  # name, then the distributions it needs besides vitalflow (no dependencies resolved)
  local name=$1 dir="$BUILD/lambda/$1"
  shift
  mkdir -p "$dir" "$OUT/lambda"
  # manylinux2014: the python3.11 runtime is Amazon Linux 2 (glibc 2.26), so no manylinux_2_28 wheels.
  quiet_pip "$PY" -m pip install --quiet --no-compile --target "$dir" --no-deps "$WHEEL"
  quiet_pip "$PY" -m pip install --quiet --no-compile --target "$dir" --upgrade \
    --platform manylinux2014_x86_64 --python-version 3.11 --implementation cp --only-binary=:all: \
    "${LAMBDA_PINS[@]}" "$@"
  test -d "$dir/vitalflow" || { echo "package.sh: $name: install failed" >&2; exit 1; }
  cp "lambdas/$name.py" "$dir/"
  find "$dir" -name "__pycache__" -prune -exec rm -rf {} +
  rm -rf "$dir"/bin "$dir"/matplotlib/mpl-data/sample_data "$dir"/numpy/*/tests "$dir"/fontTools/*/tests
  rm -f "$OUT/lambda/$name.zip"
  "$PY" - "$dir" "$OUT/lambda/$name.zip" <<'PYZIP'
import pathlib, sys, zipfile
root, target = pathlib.Path(sys.argv[1]), sys.argv[2]
with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            info = zipfile.ZipInfo.from_file(path, path.relative_to(root).as_posix())
            info.date_time = (2020, 1, 1, 0, 0, 0)  # reproducible: same inputs, same zip, no redeploy
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
PYZIP
  echo "built $OUT/lambda/$name.zip ($(du -sm "$dir" | cut -f1) MB unzipped)"
}

JOBS=()
LAMBDA_LOCK="scripts/lambda-py3.11.lock"
if [[ $WHAT == all || $WHAT == lambdas ]]; then
  LAMBDA_LOCK="scripts/lambda-py3.11.lock"
  LAMBDA_PINS=()
  if [[ -f $LAMBDA_LOCK ]]; then LAMBDA_PINS=(-c "$LAMBDA_LOCK"); fi
  # Direct requirements; pip adds their dependencies (boto3 is not among them: the runtime has it).
  # python-dateutil<3: the runtime's botocore imports the copy in the package (/var/task comes first).
  # The three packages (and the wheelhouse below) build in parallel: pip waits mostly on the index.
  lambda_package start_validation aws-lambda-powertools &
  JOBS+=($!)
  lambda_package analyze aws-lambda-powertools pydantic sqlglot &
  JOBS+=($!)
  lambda_package notify aws-lambda-powertools pydantic sqlglot jinja2 matplotlib "python-dateutil<3" &
  JOBS+=($!)
fi

lambda_lock() {
  if [[ ! -f $LAMBDA_LOCK ]]; then
    "$PY" - "$BUILD/lambda" "$LAMBDA_LOCK" <<'PYLOCK'
import pathlib, sys
root, lock = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
pins = set()
for info in root.glob("*/*.dist-info"):
    name, version = info.name[: -len(".dist-info")].rsplit("-", 1)
    if name != "vitalflow":
        pins.add(f"{name.replace('_', '-').lower()}=={version}")
lock.write_text("# Lambda package pins (scripts/package.sh); delete and rebuild to upgrade.\n" + "\n".join(sorted(pins)) + "\n")
PYLOCK
    echo "wrote $LAMBDA_LOCK"
  fi
}

glue_wheelhouse() {
  # Resolve with a real Python $GLUE_PYTHON so environment markers (eval-type-backport on 3.9) hold.
  if [[ -z ${GLUE_PY:-} ]]; then  # pyenv's interpreter if it has one (its shims fail without it), else PATH
    PYENV_PICK=$(pyenv versions --bare 2>/dev/null | grep -E "^${GLUE_PYTHON//./\\.}\.[0-9]+$" | tail -1 || true)
    if [[ -n $PYENV_PICK ]]; then
      GLUE_PY=$(PYENV_VERSION=$PYENV_PICK pyenv which "python$GLUE_PYTHON" 2>/dev/null || true)
    fi
    if [[ -z ${GLUE_PY:-} ]] && "python$GLUE_PYTHON" -c "" 2>/dev/null; then
      GLUE_PY=$(command -v "python$GLUE_PYTHON")
    fi
  fi
  test -n "${GLUE_PY:-}" || { echo "package.sh: Python $GLUE_PYTHON is needed to resolve the Glue wheelhouse (pyenv install $GLUE_PYTHON, or set GLUE_PY)" >&2; exit 1; }
  LOCK="scripts/glue-py$GLUE_PYTHON.lock"
  HOUSE="$OUT/glue-py$GLUE_PYTHON"
  rm -rf "$HOUSE"
  CONSTRAINT=()
  if [[ -f $LOCK ]]; then CONSTRAINT=(-c "$LOCK"); fi
  quiet_pip "$GLUE_PY" -m pip download --quiet --only-binary=:all: --platform manylinux2014_x86_64 \
    --implementation cp -d "$HOUSE" "${CONSTRAINT[@]}" "$WHEEL"
  if [[ ! -f $LOCK ]]; then
    "$PY" - "$HOUSE" "$LOCK" <<'PYLOCK'
import pathlib, sys
house, lock = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
pins = sorted(
    f"{w.name.split('-')[0].replace('_', '-').lower()}=={w.name.split('-')[1]}"
    for w in house.glob("*.whl") if not w.name.startswith("vitalflow-")
)
lock.write_text("# Glue job wheelhouse pins (scripts/package.sh); delete and rebuild to upgrade.\n" + "\n".join(pins) + "\n")
PYLOCK
    echo "wrote $LOCK"
  fi
  echo "built $HOUSE ($(ls "$HOUSE"/*.whl | wc -l) wheels, $(du -sm "$HOUSE" | cut -f1) MB) for Python $GLUE_PYTHON"
}

if [[ $WHAT == all || $WHAT == glue ]]; then
  glue_wheelhouse &
  JOBS+=($!)
fi
FAILED=0
for job in "${JOBS[@]}"; do wait "$job" || FAILED=1; done
if [[ $FAILED == 1 ]]; then echo "package.sh: a build failed (see above)" >&2; exit 1; fi
if [[ $WHAT == all || $WHAT == lambdas ]]; then lambda_lock; fi
rm -rf "$BUILD"
