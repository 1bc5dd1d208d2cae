#!/usr/bin/env bash
# Regenerates the screenshots shown in docs/ui.md (docs/ui/*.png): runs UiDocScreenshotsTests, which opens the
# pages in headless Chromium against a test server holding the RunsWorld data and, with LINEAGE_UI_DOCS=1, copies
# its shots into docs/ui/. Commit the PNGs that changed.
set -euo pipefail
cd "$(dirname "$0")/.."
LINEAGE_UI_DOCS=1 scripts/test.sh --filter "FullyQualifiedName~UiDocScreenshotsTests"
ls -l docs/ui/*.png
