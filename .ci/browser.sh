#!/usr/bin/env bash
# The dashboard's tests with the [dashboard] extra installed: the headless Solara component tests, and the
# page in a real browser (Debian's chromium driven by Playwright, against the server `funnelsim dashboard` runs).
#   bash .ci/browser.sh [VENV]     (default .venv; created if missing)
# Leaves a screenshot in ci-artifacts/dashboard.png and the log (with browser timings) in ci-artifacts/browser-test.log.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv}"

# Playwright's own browser download needs the internet: use Debian's build instead
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "browser.sh: chromium is missing; install it as root: apt-get install chromium" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
chromium --version

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q -e '.[test,dashboard,browser]'

mkdir -p ci-artifacts
rm -f ci-artifacts/dashboard.png
# -m overrides the default "not browser" of pyproject's addopts
"$VENV/bin/pytest" -m "not slow" -p no:cacheprovider -rs -s \
  tests/dashboard/test_app.py tests/dashboard/test_room.py tests/commands/test_dashboard.py \
  tests/dashboard/test_browser.py tests/dashboard/test_browser_room.py 2>&1 | tee ci-artifacts/browser-test.log
test -s ci-artifacts/dashboard.png || { echo "browser.sh: no screenshot was taken" >&2; exit 1; }
echo "screenshot: ci-artifacts/dashboard.png"
