#!/usr/bin/env bash
# Installs what the build and the tests need and this machine lacks, with apt (as root or through
# sudo): a JDK 25 when scripts/env.sh finds none (Temurin, else Debian's OpenJDK 25), and Debian's
# Chromium and ChromeDriver for the dashboard's browser tests. Does nothing when all are there.
# scripts/test.sh runs it first, so the README's test command works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
need=()
( . scripts/env.sh ) >/dev/null 2>&1 || need+=(temurin-25-jdk)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${need[*]}" >&2
$SUDO apt-get update -q
if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}"; then
  # temurin may not be in the configured repositories; Debian's OpenJDK 25 is the fallback
  need=("${need[@]/temurin-25-jdk/openjdk-25-jdk-headless}")
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}"
fi
