#!/usr/bin/env bash
# Build vizvm.app on macOS and self-test it (not run by the project's CI: it needs a Mac;
# see packaging/README.md). Build on each architecture for its own app: numpy, unicorn and
# capstone ship per-architecture wheels, so an Intel Mac builds the x86-64 app and an
# Apple-silicon Mac the arm64 one.
#
#   packaging/macos/build_macos.sh            (PYTHON=python3.12 to choose the interpreter)
#   SIGN_ID="Developer ID Application: ..." packaging/macos/build_macos.sh   (signed)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-python3}
BUILD=$ROOT/build/macos
DIST=$ROOT/dist
ARCH=$(uname -m)
started=$(date +%s)

rm -rf "$BUILD" "$DIST/vizvm" "$DIST/vizvm.app"
mkdir -p "$BUILD"
"$PYTHON" -m venv "$BUILD/venv"
VPY=$BUILD/venv/bin/python
target="$ROOT"
[ "$ARCH" = x86_64 ] && target="$ROOT[authoring]"  # keystone has no arm64 wheel
"$VPY" -m pip install --disable-pip-version-check "$target" "pyinstaller>=6.10,<7"
VERSION=$("$VPY" -c "import vizvm; print(vizvm.__version__)")
"$VPY" "$ROOT/packaging/render_icons.py" "$ROOT/build/icons"
(cd "$ROOT" && "$VPY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath "$BUILD/pyinstaller" packaging/vizvm.spec)

APP=$DIST/vizvm.app
if [ -n "${SIGN_ID:-}" ]; then
    # hardened runtime, needed for notarization; see packaging/README.md for notarytool
    codesign --force --deep --options runtime --timestamp --sign "$SIGN_ID" "$APP"
else
    codesign --force --deep --sign - "$APP"  # ad hoc: runs here; Gatekeeper still asks
fi
ZIP=$DIST/vizvm-$VERSION-macos-$ARCH.zip
ditto -c -k --keepParent "$APP" "$ZIP"

SMOKE=$(mktemp -d /tmp/vizvm-smoke.XXXXXX)
trap 'rm -rf "$SMOKE"' EXIT
set +e
env -i PATH=/usr/bin:/bin HOME="$SMOKE" VIZVM_DATA_DIR="$SMOKE/data" QT_QPA_PLATFORM=offscreen \
    "$APP/Contents/MacOS/vizvm" self-test
status=$?
set -e
echo "app: $APP ($(du -sh "$APP" | cut -f1)); zip: $ZIP; $(( $(date +%s) - started )) s"
[ "$status" -eq 0 ] || { echo "self-test FAILED ($status)"; exit 1; }
echo "self-test passed"
