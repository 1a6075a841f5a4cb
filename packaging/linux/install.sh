#!/bin/sh
# Install this unpacked vizvm build for the current user (no root needed):
#   ./install.sh            copies the app to ~/.local/opt/vizvm, the command to ~/.local/bin,
#                           the menu entry and icons to ~/.local/share
#   ./install.sh --remove   takes them away again
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
OPT=$HOME/.local/opt/vizvm
BIN=$HOME/.local/bin
if [ "${1:-}" = "--remove" ]; then
    rm -rf "$OPT" "$BIN/vizvm" "$DATA/applications/vizvm.desktop"
    find "$DATA/icons/hicolor" -name 'vizvm.*' -path '*/apps/*' -delete 2>/dev/null || true
    echo "vizvm removed"
    exit 0
fi
mkdir -p "$OPT" "$BIN" "$DATA/applications"
rm -rf "$OPT"
cp -R "$HERE" "$OPT"
ln -sf "$OPT/vizvm" "$BIN/vizvm"
sed "s|^Exec=vizvm|Exec=$OPT/vizvm|" "$HERE/share/applications/vizvm.desktop" \
    > "$DATA/applications/vizvm.desktop"
cp -R "$HERE/share/icons" "$DATA/"
command -v update-desktop-database >/dev/null && update-desktop-database "$DATA/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q "$DATA/icons/hicolor" || true
echo "vizvm installed: $BIN/vizvm, and in the menu (Education)"
