#!/usr/bin/env bash
# `make test` renders the report and the Data Docs in headless Chromium (tests/test_notify_chromium.py looks for
# `chromium` and installs Debian's package when missing). Ubuntu, the CodeBuild image's system, has no such package,
# so Google Chrome from Google's signed apt repository stands in for it, under the name the tests use. The test
# project sets CI=true, so a browser that still cannot start fails those tests instead of skipping them.
set -euo pipefail
if command -v chromium >/dev/null; then chromium --version; exit 0; fi
KEYRING=/usr/share/keyrings/google-linux.gpg
curl -fsSL https://dl.google.com/linux/linux_signing_key.pub | gpg --batch --yes --dearmor -o "$KEYRING"
echo "deb [arch=amd64 signed-by=$KEYRING] https://dl.google.com/linux/chrome/deb/ stable main" >/etc/apt/sources.list.d/google-chrome.list
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends google-chrome-stable >/dev/null
ln -sf "$(command -v google-chrome-stable)" /usr/local/bin/chromium
chromium --version
