#!/usr/bin/env bash
# The test command's first step: bring what the tests need that pip cannot (tests/run_all.sh calls it).
#   - a Chromium for the browser tests and the docs' panel screenshot: Debian's where installed; else, as root (or
#     with password-less sudo) and apt-get, Debian's installed now; else Playwright's own, downloaded where the
#     network allows; else one line naming the command that would fix it, and exit 1.
#   - tcmalloc (libtcmalloc-minimal4), which visionlab-train preloads where installed: installed the same way when it
#     can be, so the suite runs with it (tests/run_all.sh also runs the command-line tests without it). Optional.
set -uo pipefail
cd "$(dirname "$0")/.."

sudo=""; can_apt=0    # apt-get as root, or through password-less sudo
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; fi
if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; }; then can_apt=1; fi
updated=0
apt_install() {   # apt_install PACKAGE: quiet; its last lines are shown when it fails
  [ $can_apt -eq 1 ] || return 1
  local log; log=$(mktemp)
  if [ $updated -eq 0 ]; then $sudo apt-get update -qq >"$log" 2>&1 && updated=1; fi
  if [ $updated -eq 1 ] && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$1" >"$log" 2>&1; then
    echo "provision: installed $1 (apt-get)"; rm -f "$log"; return 0
  fi
  tail -n 3 "$log" | sed 's/^/provision: apt-get: /'; rm -f "$log"; return 1
}

if python tests/browser.py; then
  :
elif apt_install chromium; then
  :
elif timeout 300 python -m playwright install chromium >/dev/null 2>&1 && python tests/browser.py; then
  echo "provision: installed Playwright's Chromium (python -m playwright install chromium)"
else
  echo "tests/run_all.sh: error: the browser tests need Chromium: run 'sudo apt-get install chromium' (Debian, Ubuntu), or 'python -m playwright install chromium' where it can download, then this command again" >&2
  exit 1
fi

if ! python -c "import sys; from visionlab.allocator import find_tcmalloc; sys.exit(find_tcmalloc() is None)"; then
  apt_install libtcmalloc-minimal4 \
    || echo "provision: no tcmalloc (apt-get install libtcmalloc-minimal4 brings it): the tests run on glibc's allocator only"
fi
exit 0
