#!/usr/bin/env bash
# Build the AWS deployment artefacts from this checkout (Terraform uploads them):
#   $OUT/vitalflow-<version>-py3-none-any.whl   the project wheel
#   $OUT/lambda/<function>.zip                  one per function, for the Lambda runtime python$LAMBDA_PYTHON
#                                               (Amazon Linux 2023), with only what that function imports:
#       start_validation  vitalflow + Powertools (boto3 is in the Lambda runtime); no layer
#       analyze           vitalflow + Powertools, pydantic, sqlglot; pandas/pyarrow/awswrangler come from
#                         the AWS SDK for pandas layer Terraform attaches (the only function with it)
#       notify            vitalflow + Powertools, pydantic, sqlglot, jinja2, matplotlib and numpy; no layer
#       digest            vitalflow + Powertools, pydantic, sqlglot, jinja2; the pandas layer (Athena)
#       live              vitalflow + Powertools (the live dashboard: websocket connections, events); no layer
#   $OUT/glue-job-py<X.Y>.zip                   the Glue job's libraries: one site-packages folder holding
#                                               the job's import closure and nothing else, for Python 3.9
#                                               (pythonshell, the default) or 3.11 (GLUE_PYTHON=3.11, glueetl);
#                                               jobs/validate_batch.py unpacks it and puts it on sys.path
# Versions: scripts/lambda-py<X.Y>.lock and scripts/glue-py<X.Y>.lock, written on first build and committed,
# so a new upstream release changes nothing until a lock is regenerated (delete it, make package, test).
# Binary wheels only, manylinux for x86_64: glibc 2.26 (manylinux2014) for the Glue hosts, up to 2.28 for
# Lambda's Amazon Linux 2023 (glibc 2.34).
# Usage: scripts/package.sh [all|lambdas|glue]; OUT=dir builds elsewhere (tests use a temp dir).
set -euo pipefail
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WHAT=${1:-all}
OUT=${OUT:-dist}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PY=${PY:-$ROOT/.venv/bin/python}
GLUE_PYTHON=${GLUE_PYTHON:-3.9}
LAMBDA_PYTHON=${LAMBDA_PYTHON:-3.12}
BUILD="$OUT/.build"
# What the Glue job never imports (the CLI's and the Lambdas' libraries); tests/test_glue_job.py checks it.
# (rich is not imported by the job either, but pyiceberg requires it, so it is installed.)
NOT_IN_THE_JOB="matplotlib duckdb sqlglot aws-lambda-powertools"
quiet_pip() {  # pip's output without this machine's find-links noise; pip's exit status is kept
  local status=0 log
  log=$(mktemp "$BUILD/pip.XXXXXX")
  "$@" > "$log" 2>&1 || status=$?
  grep -v "is ignored: it is neither a file nor a directory" "$log" || true
  return $status
}

python_for() {  # a real interpreter of version $1, so environment markers (3.9's backports) resolve right
  local version=$1 pick found=""
  pick=$(pyenv versions --bare 2>/dev/null | grep -E "^${version//./\\.}\.[0-9]+$" | tail -1 || true)
  if [[ -n $pick ]]; then found=$(PYENV_VERSION=$pick pyenv which "python$version" 2>/dev/null || true); fi
  if [[ -z $found ]] && "python$version" -c "" 2>/dev/null; then found=$(command -v "python$version"); fi
  test -n "$found" || { echo "package.sh: Python $version is needed to resolve packages for it (pyenv install $version, or put python$version on PATH)" >&2; return 1; }
  echo "$found"
}

zip_folder() {  # folder, archive: deterministic (sorted, fixed timestamps) so the same inputs redeploy nothing
  "$PY" - "$1" "$2" <<'PYZIP'
import pathlib, sys, zipfile
root, target = pathlib.Path(sys.argv[1]), sys.argv[2]
with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            info = zipfile.ZipInfo.from_file(path, path.relative_to(root).as_posix())
            info.date_time = (2020, 1, 1, 0, 0, 0)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
PYZIP
}

write_lock() {  # site folder, lock file: the distributions installed there, vitalflow aside
  "$PY" - "$1" "$2" "$3" <<'PYLOCK'
import pathlib, sys
root, lock, what = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
pins = set()
for info in root.glob("*.dist-info"):
    name, version = info.name[: -len(".dist-info")].rsplit("-", 1)
    if name != "vitalflow":
        pins.add(f"{name.replace('_', '-').lower()}=={version}")
lock.write_text(f"# {what} pins (scripts/package.sh); delete and rebuild to upgrade.\n" + "\n".join(sorted(pins)) + "\n")
PYLOCK
  echo "wrote $2"
}

clean_site() {  # folder [slim]: slim drops test suites too (Lambda's 250 MB); numpy.testing, which scipy
  # imports on the job's path, needs numpy/_core/tests, so the job keeps them
  find "$1" -name "__pycache__" -prune -exec rm -rf {} +
  rm -rf "$1"/bin
  if [[ ${2:-} == slim ]]; then
    rm -rf "$1"/matplotlib/mpl-data/sample_data "$1"/numpy/*/tests "$1"/fontTools/*/tests
  fi
}

rm -rf "$BUILD" "$OUT"/vitalflow-*.whl
mkdir -p "$BUILD"
quiet_pip "$PY" -m pip wheel --quiet --no-deps --wheel-dir "$OUT" "$ROOT"
WHEEL=$(ls "$OUT"/vitalflow-*.whl)
test -f "$WHEEL"

LAMBDA_LOCK="scripts/lambda-py$LAMBDA_PYTHON.lock"
lambda_package() {  # name, then the distributions it needs besides vitalflow (no dependencies resolved)
  local name=$1 dir="$BUILD/lambda/$1"
  shift
  mkdir -p "$dir" "$OUT/lambda"
  quiet_pip "$LAMBDA_PY" -m pip install --quiet --no-compile --target "$dir" --no-deps "$WHEEL"
  quiet_pip "$LAMBDA_PY" -m pip install --quiet --no-compile --target "$dir" --upgrade \
    --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 --implementation cp \
    --only-binary=:all: "${LAMBDA_PINS[@]}" "$@"
  test -d "$dir/vitalflow" || { echo "package.sh: $name: install failed" >&2; exit 1; }
  cp "lambdas/$name.py" "$dir/"
  clean_site "$dir" slim
  rm -f "$OUT/lambda/$name.zip"
  zip_folder "$dir" "$OUT/lambda/$name.zip"
  echo "built $OUT/lambda/$name.zip for python$LAMBDA_PYTHON ($(du -sm "$dir" | cut -f1) MB unzipped)"
}

glue_artifact() {
  local lock="scripts/glue-py$GLUE_PYTHON.lock" site="$BUILD/glue-py$GLUE_PYTHON" reqs="$BUILD/glue-requirements.txt"
  local constraint=()
  if [[ -f $lock ]]; then constraint=(-c "$lock"); fi
  # vitalflow's own requirements (with their markers), less what the job never imports.
  "$PY" - "$WHEEL" "$NOT_IN_THE_JOB" > "$reqs" <<'PYREQS'
import re, sys, zipfile
wheel, skip = sys.argv[1], set(sys.argv[2].split())
with zipfile.ZipFile(wheel) as z:
    meta = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
for line in meta.splitlines():
    if line.startswith("Requires-Dist:") and "extra ==" not in line:
        requirement = line.split(":", 1)[1].strip()
        name = re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        if name not in skip:
            print(requirement)
PYREQS
  mkdir -p "$site"
  quiet_pip "$GLUE_PY" -m pip install --quiet --no-compile --target "$site" --no-deps "$WHEEL"
  quiet_pip "$GLUE_PY" -m pip install --quiet --no-compile --target "$site" --only-binary=:all: \
    --platform manylinux2014_x86_64 --implementation cp "${constraint[@]}" -r "$reqs"
  clean_site "$site"
  for skipped in $NOT_IN_THE_JOB; do
    if compgen -G "$site/${skipped//-/_}-*.dist-info" > /dev/null; then
      echo "package.sh: $skipped reached the Glue job's libraries; the job must not need it" >&2; exit 1
    fi
  done
  write_lock "$site" "$lock" "Glue job (Python $GLUE_PYTHON)"
  rm -f "$OUT/glue-job-py$GLUE_PYTHON.zip"
  zip_folder "$site" "$OUT/glue-job-py$GLUE_PYTHON.zip"
  echo "built $OUT/glue-job-py$GLUE_PYTHON.zip ($(ls -d "$site"/*.dist-info | wc -l) distributions, $(du -sm "$site" | cut -f1) MB unpacked) for Python $GLUE_PYTHON"
}

JOBS=()
if [[ $WHAT == all || $WHAT == lambdas ]]; then
  LAMBDA_PY=$(python_for "$LAMBDA_PYTHON")
  LAMBDA_PINS=()
  if [[ -f $LAMBDA_LOCK ]]; then LAMBDA_PINS=(-c "$LAMBDA_LOCK"); fi
  # Direct requirements; pip adds their dependencies (boto3 is not among them: the runtime has it).
  # python-dateutil<3: the runtime's botocore imports the copy in the package (/var/task comes first).
  # The three packages (and the Glue libraries below) build in parallel: pip waits mostly on the index.
  lambda_package start_validation aws-lambda-powertools &
  JOBS+=($!)
  lambda_package analyze aws-lambda-powertools pydantic sqlglot &
  JOBS+=($!)
  lambda_package notify aws-lambda-powertools pydantic sqlglot jinja2 matplotlib "python-dateutil<3" &
  JOBS+=($!)
  lambda_package digest aws-lambda-powertools pydantic sqlglot jinja2 &
  JOBS+=($!)
  lambda_package live aws-lambda-powertools &  # the live dashboard: the board is plain Python
  JOBS+=($!)
fi
if [[ $WHAT == all || $WHAT == glue ]]; then
  GLUE_PY=${GLUE_PY:-$(python_for "$GLUE_PYTHON")}
  glue_artifact &
  JOBS+=($!)
fi
FAILED=0
for job in "${JOBS[@]}"; do wait "$job" || FAILED=1; done
if [[ $FAILED == 1 ]]; then echo "package.sh: a build failed (see above)" >&2; exit 1; fi
if [[ ($WHAT == all || $WHAT == lambdas) && ! -f $LAMBDA_LOCK ]]; then
  mkdir -p "$BUILD/lambda-all"
  for d in "$BUILD"/lambda/*/; do cp -r "$d"/*.dist-info "$BUILD/lambda-all/" 2>/dev/null || true; done
  write_lock "$BUILD/lambda-all" "$LAMBDA_LOCK" "Lambda package (python$LAMBDA_PYTHON)"
fi
rm -rf "$BUILD"
