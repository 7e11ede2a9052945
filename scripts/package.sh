#!/usr/bin/env bash
# Build the AWS deployment artefacts from this checkout:
#   dist/vitalflow-<version>-py3-none-any.whl  installed by the Glue job (--additional-python-modules)
#   dist/lambda.zip                            the three handlers + vitalflow + their dependencies
# pandas, numpy and pyarrow (awswrangler's stack) come from the AWS SDK for pandas Lambda layer, which
# Terraform attaches; Great Expectations and DuckDB are not needed by any Lambda and are left out.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=".venv/bin/python"
rm -rf dist build/lambda
mkdir -p dist build/lambda
"$PY" -m pip wheel --quiet --no-deps --wheel-dir dist .
WHEEL=$(ls dist/vitalflow-*.whl)
"$PY" -m pip install --quiet --no-compile --target build/lambda \
  --platform manylinux2014_x86_64 --python-version 3.11 --implementation cp --only-binary=:all: \
  --no-deps "$WHEEL" \
  aws-lambda-powertools pydantic pydantic-core typing-extensions typing-inspection annotated-types \
  sqlglot jinja2 markupsafe matplotlib contourpy cycler fonttools kiwisolver packaging pillow pyparsing \
  python-dateutil six
cp lambdas/*.py build/lambda/
find build/lambda -name "__pycache__" -prune -exec rm -rf {} +
"$PY" - <<'PYZIP'
import pathlib, zipfile
root = pathlib.Path("build/lambda")
with zipfile.ZipFile("dist/lambda.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            archive.write(path, path.relative_to(root).as_posix())
PYZIP
echo "built $(du -h dist/lambda.zip | cut -f1) dist/lambda.zip ($(du -sh build/lambda | cut -f1) unpacked) and $WHEEL"
