#!/usr/bin/env bash
# Compile every Python file under glue/ and run the unit tests.
# Exits non-zero on the first failure. Needs only python3 (3.11, stdlib).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

echo "== py_compile"
mapfile -t files < <(find . -name '*.py' -not -path '*/__pycache__/*' | sort)
if [ "${#files[@]}" -eq 0 ]; then
  echo "no Python files found" >&2
  exit 1
fi
python3 -m py_compile "${files[@]}"
echo "compiled ${#files[@]} files"

echo "== unittest"
python3 -m unittest discover -s tests
