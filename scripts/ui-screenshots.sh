#!/usr/bin/env bash
# Regenerates the screenshots shown in docs/ui.md: runs UiDocScreenshotsTests, which opens the pages in headless
# Chromium against a test server holding the RunsWorld data and writes ui-output/docs/*.png, then copies those
# into docs/ui/. Commit the PNGs that changed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/test.sh --filter "FullyQualifiedName~UiDocScreenshotsTests"
mkdir -p docs/ui
cp tests/Lineage.Tests/bin/Release/net10.0/ui-output/docs/*.png docs/ui/
ls -l docs/ui/*.png
