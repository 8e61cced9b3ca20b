#!/usr/bin/env bash
# Set up NMI Lab on Debian/Ubuntu with Node 20: the Debian packages the tests use, then the npm
# packages from the lockfile. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v as >/dev/null 2>&1 || missing+=(binutils)            # GNU as, for the differential test
/usr/bin/python3 -c 'import unicorn' >/dev/null 2>&1 || missing+=(python3-unicorn)  # the reference CPU
# Jupyter from the distribution (there is no PyPI here): the notebook server, nbconvert and nbclient
# run the course headless in the tests; Chromium renders pages in the browser tests.
/usr/bin/python3 -c 'import nbclient, nbconvert, nbformat, jupyter_client' >/dev/null 2>&1 ||
  missing+=(jupyter-notebook jupyter-nbconvert python3-nbclient jupyter-client jupyter-nbformat)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# The benchmark's same-run yardstick (bench/unicorn-reference.ts): Unicorn's C API, built with gcc.
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
[ -f /usr/include/unicorn/unicorn.h ] || missing+=(libunicorn-dev)
# The grader's sandbox (nmi-lab grade): bubblewrap's namespaces around Node's permission model.
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: please install these Debian packages as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# The npm packages from the lockfile; npm's prepare step then compiles the library into build/.
# Notebooks import it by name: package.json links 'nmi-lab' to this checkout (a file: dependency).
npm ci --no-audit --no-fund
