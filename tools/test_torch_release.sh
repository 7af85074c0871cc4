#!/usr/bin/env bash
# Proves that one wheel works on another torch release: installs the wheel
# from dist/ (built by tools/build_dist.sh when missing or older than the
# sources), without rebuilding it, into a virtual environment that holds
# torch==VERSION from PyPI, and runs the whole test suite there from a copy of
# tests/ outside the source tree, so the tests import the installed wheel.
#
#   tools/test_torch_release.sh VERSION [pytest args...]     e.g. 2.10.0, 2.15.0
#   tools/test_torch_release.sh newest  [pytest args...]     the newest torch on PyPI
#
# The environments stay in $TORCH_POISSON_RELEASES (default
# ~/.cache/torch_poisson_releases/VERSION) and are reused: PyPI's Linux torch
# wheels are CUDA builds of about 5 GB (no GPU is needed to run the tests).
# The wheel is built with the active environment's torch (requirements-dev.txt
# and tools/requirements-release.txt installed there).
set -euo pipefail
VERSION="${1:?usage: tools/test_torch_release.sh VERSION|newest [pytest args...]}"
shift
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${TORCH_POISSON_RELEASES:-$HOME/.cache/torch_poisson_releases}"
export PIP_DISABLE_PIP_VERSION_CHECK=1
# this machine's pip constraint file caps torch at the releases on its disk: lifted here
export PIP_CONSTRAINT=/dev/null
unset PYTHONPATH

if [ "$VERSION" = newest ]; then
  VERSION="$(python3 -m pip index versions torch 2>/dev/null | sed -n 's/^torch (\(.*\))$/\1/p')"
  [ -n "$VERSION" ] || { echo "error: pip index versions torch gave no version" >&2; exit 1; }
  echo "== the newest torch on PyPI: $VERSION"
fi

# ---- the wheel: built once, rebuilt only when a source is newer -------------
wheel="$(ls "$ROOT"/dist/torch_poisson-*-manylinux*.whl 2>/dev/null || true)"
if [ -z "$wheel" ] || [ -n "$(cd "$ROOT" && find CMakeLists.txt setup.py pyproject.toml MANIFEST.in csrc torch_poisson \
      -type f -newer "$wheel" ! -name '*.so' ! -name '_build_info.py' ! -name '*.pyc' | head -n 1)" ]; then
  echo "== building the wheel (tools/build_dist.sh)"
  "$ROOT/tools/build_dist.sh"
  wheel="$(ls "$ROOT"/dist/torch_poisson-*-manylinux*.whl)"
fi
echo "== wheel: $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"

# ---- the environment with torch==VERSION ------------------------------------
VENV="$CACHE/$VERSION"
if [ ! -f "$VENV/.ready" ]; then
  echo "== new environment $VENV: torch==$VERSION and the test requirements (about 5 GB)"
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --no-cache-dir "torch==$VERSION" -r "$ROOT/requirements-dev.txt"
  echo "$VERSION" >"$VENV/.ready"
fi
PY="$VENV/bin/python"
"$PY" - "$VERSION" <<'PYEOF'
import sys, torch
want = sys.argv[1]
got = torch.__version__.split("+")[0]
assert got == want, f"the environment holds torch {torch.__version__}, not {want}"
PYEOF
"$PY" -m pip uninstall -q -y torch_poisson 2>/dev/null || true
"$PY" -m pip install -q --no-deps "$wheel"

# ---- the suite, from outside the source tree --------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/torch_poisson_release.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# tests/ with what they read by path: the examples they run and the pytest settings
cp -r "$ROOT/tests" "$ROOT/examples" "$ROOT/pyproject.toml" "$WORK/"
cd "$WORK"
"$PY" - "$VENV" "$ROOT" <<'PYEOF'
import os, sys
import torch_poisson
venv, root = (os.path.realpath(p) for p in sys.argv[1:])
where = os.path.realpath(torch_poisson.__file__)
assert where.startswith(venv + os.sep), f"torch_poisson imported from {where}, not from the wheel in {venv}"
assert not where.startswith(root + os.sep), f"torch_poisson imported from the checkout: {where}"
PYEOF
"$PY" -m torch_poisson info
echo "== tests on torch $VERSION (in $WORK)"
"$PY" -m pytest -p no:cacheprovider tests "$@"
