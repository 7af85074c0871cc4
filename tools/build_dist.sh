#!/usr/bin/env bash
# Builds the wheel and the sdist into dist/ with the torch of the active
# environment, without build isolation (an isolated build would fetch another
# torch). The wheel is repaired to a manylinux tag with torch's own libraries
# left out: it loads with whatever torch the user has installed.
# Needs requirements-dev.txt and tools/requirements-release.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1

rm -rf dist/raw build/lib.* build/bdist.*   # setuptools would carry stale modules into the wheel
rm -f dist/torch_poisson-*
pip wheel -q --no-build-isolation --no-deps -w dist/raw .
# Never bundle torch: libtorch*/libc10* (and their CUDA siblings) come from the user's torch.
auditwheel repair -w dist --exclude 'libtorch*' --exclude 'libc10*' --exclude 'libshm*' dist/raw/torch_poisson-*.whl
rm -rf dist/raw
wheel=$(ls dist/torch_poisson-*-manylinux*.whl)
if unzip -l "$wheel" | grep -E 'libtorch|libc10|libshm|\.libs/'; then
  echo "error: $wheel bundles shared libraries (above); torch's must come from the user's torch" >&2
  exit 1
fi
python -m build --sdist --no-isolation --outdir dist . >/dev/null
ls -l dist/torch_poisson-*
