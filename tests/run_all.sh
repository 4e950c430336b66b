#!/usr/bin/env bash
# The whole test suite, as the README's second set-up command runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
export WANDB_MODE=disabled PYTHONWARNINGS=ignore::DeprecationWarning
start=$SECONDS

echo "== what the tests need beyond pip: a Chromium, and tcmalloc where it can be had (tests/provision.sh)"
bash tests/provision.sh

echo "== notebooks are clean and the package is exported from them"
# On a clean checkout the tree must stay clean; a developer with uncommitted work sets
# VISIONLAB_ALLOW_DIRTY=1 and the check becomes "these commands change nothing".
before=""
if [ -n "${VISIONLAB_ALLOW_DIRTY:-}" ]; then before=$(git status --porcelain; git diff); fi
if [ -z "${VISIONLAB_ALLOW_DIRTY:-}" ] && [ -n "$(git status --porcelain)" ]; then
  echo "FAILED: the work tree is not clean before testing (commit, or set VISIONLAB_ALLOW_DIRTY=1):"
  git status --porcelain; exit 1
fi
nbdev_clean
python tests/readme.py
nbdev_export
if [ "$(git status --porcelain; [ -n "$before" ] && git diff)" != "$before" ]; then
  echo "FAILED: nbdev_clean/nbdev_export/README generation changed these files (notebooks and package disagree):"
  git status --porcelain; git --no-pager diff --stat; exit 1
fi

echo "== notebooks are the tests: nbdev_test (VISIONLAB_SLOW=1 also runs the #| slow cells)"
nb_start=$SECONDS
nbdev_test --n_workers 2 --timing ${VISIONLAB_SLOW:+--flags slow}
notebooks=$((SECONDS - nb_start))

echo "== docs site: the notebooks executed again for their pages (docs/build.sh), checked in Chromium by tests/test_docs_site.py"
docs_start=$SECONDS
bash docs/build.sh
docs=$((SECONDS - docs_start))

echo "== pytest tests/ (VISIONLAB_SLOW=1 also runs the tests marked slow)"
# two workers, one test file each at a time (a file's module fixtures are built once), one thread per worker: most of
# the time goes into single-threaded work (starting the console scripts, importing torch), which two workers halve.
# The tests marked serial measure how soon a browser shows things: they run afterwards, alone.
GLIBC_TESTS=(tests/test_bad_inputs.py tests/test_faults.py tests/test_cli.py)
pytest_args=(-q -p no:cacheprovider -o tmp_path_retention_policy=failed)   # a passing test's tmp_path (checkpoints) goes at once
py_start=$SECONDS
python -m pytest tests/ "${pytest_args[@]}" -n 2 --dist loadfile -m "not serial"
python -m pytest tests/ "${pytest_args[@]}" -m serial
# the command-line tests once more as on a machine without tcmalloc (VISIONLAB_TCMALLOC empty: glibc's allocator),
# where the first pass had it: no test may depend on which allocator the machine has
if python -c "import sys; from visionlab.allocator import find_tcmalloc; sys.exit(find_tcmalloc() is None)"; then
  echo "== the command-line tests on glibc's allocator"
  VISIONLAB_TCMALLOC= python -m pytest "${GLIBC_TESTS[@]}" "${pytest_args[@]}" -n 2 --dist loadfile -m "not serial"
fi
pytest_s=$((SECONDS - py_start))
echo "all tests passed in $((SECONDS - start)) s (notebooks ${notebooks} s, docs build ${docs} s, pytest ${pytest_s} s)"
