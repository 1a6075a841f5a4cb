#!/usr/bin/env bash
# Build vizvm's Linux one-folder app and prove it runs on a clean environment.
#
#   packaging/build_linux.sh            (from anywhere; Python 3.11+ as python3, or PYTHON=...)
#
# 1. a fresh virtual environment in build/linux/venv: vizvm (with keystone where it has a
#    wheel) and PyInstaller, from the package index;
# 2. the icons rendered from assets/icons/vizvm.svg; PyInstaller builds dist/vizvm/;
# 3. the desktop entry, icons and an installer are added, and dist/vizvm-VERSION-linux-ARCH.tar.gz
#    is written;
# 4. a copy of the app, away from the repository, runs `vizvm self-test` under `env -i`
#    with only PATH, HOME, a temporary VIZVM_DATA_DIR and QT_QPA_PLATFORM=offscreen.
# Exit status 0 only if the build and the self-test pass.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
BUILD=$ROOT/build/linux
DIST=$ROOT/dist
ARCH=$(uname -m)
started=$(date +%s)

say() { printf '\n== %s\n' "$*"; }

say "fresh environment in $BUILD/venv"
rm -rf "$BUILD" "$DIST/vizvm"
mkdir -p "$BUILD"
"$PYTHON" -m venv "$BUILD/venv"
VPY=$BUILD/venv/bin/python
target="$ROOT"
case "$ARCH" in x86_64|amd64) target="$ROOT[authoring]" ;; esac  # keystone's wheels: x86-64
"$VPY" -m pip install --quiet --disable-pip-version-check "$target" "pyinstaller>=6.10,<7"
VERSION=$("$VPY" -c "import vizvm; print(vizvm.__version__)")
"$VPY" -m pip list --disable-pip-version-check --format=freeze > "$BUILD/requirements-frozen.txt"

say "icons"
"$VPY" "$ROOT/packaging/render_icons.py" "$ROOT/build/icons"

say "PyInstaller"
(cd "$ROOT" && "$VPY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath "$BUILD/pyinstaller" packaging/vizvm.spec)

say "desktop entry, icons, installer"
APP=$DIST/vizvm
install -Dm644 "$ROOT/packaging/linux/vizvm.desktop" "$APP/share/applications/vizvm.desktop"
for png in "$ROOT"/build/icons/vizvm-*.png; do
    size=$(basename "$png" .png); size=${size#vizvm-}
    install -Dm644 "$png" "$APP/share/icons/hicolor/${size}x${size}/apps/vizvm.png"
done
install -Dm644 "$ROOT/assets/icons/vizvm.svg" "$APP/share/icons/hicolor/scalable/apps/vizvm.svg"
install -Dm755 "$ROOT/packaging/linux/install.sh" "$APP/install.sh"
TARBALL=$DIST/vizvm-$VERSION-linux-$ARCH.tar.gz
tar -C "$DIST" -czf "$TARBALL" vizvm
built=$(date +%s)

say "self-test of a copy, in a clean environment"
SMOKE=$(mktemp -d /tmp/vizvm-smoke.XXXXXX)
trap 'rm -rf "$SMOKE"' EXIT
mkdir -p "$SMOKE/home" "$SMOKE/data"
tar -C "$SMOKE" -xzf "$TARBALL"  # what an instructor hands out, unpacked elsewhere
clean() {
    (cd "$SMOKE" && env -i PATH=/usr/bin:/bin HOME="$SMOKE/home" VIZVM_DATA_DIR="$SMOKE/data" \
        QT_QPA_PLATFORM=offscreen "$SMOKE/vizvm/vizvm" "$@")
}
clean --version
clean doctor --json > "$BUILD/doctor.json" || true  # its verdict is reported, judged below
"$VPY" - "$BUILD/doctor.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
print(f"doctor: ok={doc['ok']} frozen={doc['vizvm']['frozen']} qt={doc['qt'].get('platform')} "
      f"assemblers={doc['assemblers']['usable']} lessons={[p.get('id') for p in doc['lessons']['packs']]}")
for problem in doc["problems"]:
    print("  problem:", problem["what"])
PY
set +e
clean self-test --json > "$BUILD/self-test.json"
status=$?
set -e
cat "$BUILD/self-test.json"
finished=$(date +%s)

say "summary"
echo "app:      $APP ($(du -sh "$APP" | cut -f1), $(find "$APP" -type f | wc -l) files)"
echo "tarball:  $TARBALL ($(du -h "$TARBALL" | cut -f1))"
echo "build:    $((built - started)) s; self-test $((finished - built)) s"
if [ "$status" -ne 0 ]; then
    echo "self-test FAILED (exit status $status): see $BUILD/self-test.json"
    exit 1
fi
echo "self-test passed"
