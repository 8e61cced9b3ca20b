#!/usr/bin/env bash
# Set up NMI Lab on Debian/Ubuntu with Node 20: the Debian packages the tests use, the npm packages
# from the lockfile, then the project's Jupyter environment (.venv/: JupyterLab 4, Notebook 7,
# nbclient/nbconvert, plotly; pinned in scripts/jupyter-requirements.txt). Safe to run again: it
# installs only what is missing or changed.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  printf 'setup: %s\n' "$@" >&2
  exit 1
}

# Debian's own Python, not whatever python3 comes first on PATH (pyenv, conda): the venv and the
# reference CPU (python3-unicorn) both need it.
PY=/usr/bin/python3
[ -x "$PY" ] || PY="$(command -v python3 || true)"

missing=()
command -v as >/dev/null 2>&1 || missing+=(binutils)            # GNU as, for the differential test
[ -n "$PY" ] && "$PY" -c 'import unicorn' >/dev/null 2>&1 || missing+=(python3-unicorn)  # the reference CPU
# venv with pip (Debian splits ensurepip into python3-venv): the project's Jupyter environment.
[ -n "$PY" ] && "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
# The classic Notebook 6 (Debian's), for `npm run jupyter -- --classic` and its browser test.
[ -x /usr/bin/jupyter-notebook ] || missing+=(jupyter-notebook)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)      # the browser tests
# The benchmark's same-run yardstick (bench/unicorn-reference.ts): Unicorn's C API, built with gcc.
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
[ -f /usr/include/unicorn/unicorn.h ] || missing+=(libunicorn-dev)
# The grader's sandbox (nmi-lab grade): bubblewrap's namespaces around Node's permission model.
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    fail "these Debian packages are missing: ${missing[*]}" \
      "run as root: apt-get install -y ${missing[*]}" "then run again: bash scripts/setup.sh"
  fi
  "${sudo[@]}" apt-get update -qq ||
    fail "apt-get update failed (see above); fix the package sources, then run again: bash scripts/setup.sh"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
    fail "apt-get could not install: ${missing[*]} (see above)" \
      "install them (apt-get install -y ${missing[*]}), then run again: bash scripts/setup.sh"
  PY=/usr/bin/python3
fi

# The npm packages from the lockfile; npm's prepare step then compiles the library into build/.
# Notebooks import it by name: package.json links 'nmi-lab' to this checkout (a file: dependency).
npm ci --no-audit --no-fund ||
  fail "npm ci failed (see above); check access to the npm registry, then run again: bash scripts/setup.sh"

# The Jupyter environment. It is rebuilt only when the requirements changed since it was made
# (the copy in .venv/ says what it holds) or it no longer works.
VENV=.venv
REQS=scripts/jupyter-requirements.txt
STAMP="$VENV/nmi-lab-requirements.txt"
venv_ok() {
  [ -x "$VENV/bin/python" ] && cmp -s "$REQS" "$STAMP" &&
    "$VENV/bin/python" -c 'import jupyterlab, notebook, nbclient, nbconvert, plotly' >/dev/null 2>&1
}
if venv_ok; then
  echo "setup: the Jupyter environment in $VENV/ is up to date"
else
  if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$VENV"
    "$PY" -m venv "$VENV" ||
      fail "could not create the Python environment $VENV/ with $PY -m venv (see above)" \
        "Debian/Ubuntu: apt-get install -y python3-venv, then run again: bash scripts/setup.sh"
  fi
  echo "setup: installing JupyterLab, Notebook 7, nbclient, nbconvert and plotly into $VENV/ (from $REQS)"
  # --retries 0: an index that cannot be reached fails at once instead of after minutes of retries.
  if ! "$VENV/bin/python" -m pip install --retries 0 --disable-pip-version-check -q -r "$REQS"; then
    fail "pip could not install the Jupyter packages into $VENV/ (its messages are above)." \
      "Check that pip reaches PyPI or your configured index (pip config list), then run again: bash scripts/setup.sh"
  fi
  cp "$REQS" "$STAMP"
  venv_ok || fail "the Jupyter environment in $VENV/ does not import jupyterlab, notebook, nbclient, nbconvert and plotly" \
    "remove it (rm -rf $VENV) and run again: bash scripts/setup.sh"
fi
echo "setup: done. Open the course with: npm run jupyter"
