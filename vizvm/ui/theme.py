"""Colours and sizes for the window, in three themes.

Colours come from the Okabe-Ito palette, chosen to stay distinct under the
common colour-vision deficiencies; nothing is told by colour alone (every
mark also has a symbol or a style), so the high-contrast theme can use
plain black, white and yellow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Okabe & Ito, "Color Universal Design" (2008)
ORANGE, SKY, GREEN, YELLOW = "#E69F00", "#56B4E9", "#009E73", "#F0E442"
BLUE, VERMILION, PURPLE, GREY = "#0072B2", "#D55E00", "#CC79A7", "#999999"

TECHNIQUE_COLOURS = {
    "native": GREY,
    "trap-emulate": VERMILION,
    "binary-translation": BLUE,
    "paravirt": GREEN,
    "hardware-assist": PURPLE,
}
EVENT_COLOURS = {
    "trap": VERMILION, "emulate": ORANGE, "vm-exit": PURPLE, "hypercall": GREEN,
    "translate": BLUE, "callout": SKY, "interrupt": YELLOW, "exception": "#8C510A",
    "ring-change": GREY, "io": "#666666", "cache-hit": "#4D9221", "cache-miss": "#C51B7D",
    "invalidate": "#762A83", "halt": "#BBBBBB", "unseen": VERMILION,
}
# a symbol beside every mark, so that no meaning rests on colour
CLASS_SYMBOLS = {"privileged": "⚠", "sensitive": "◆", "unknown": "?", "innocuous": "", "": ""}
HOW_SYMBOLS = {"callout": "⇒", "inline": "≈", "step": "↷", "exit": "⏏", "jump": "→", "copy": ""}


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    surface: str  # panels
    foreground: str
    muted: str
    accent: str  # the current line, the token
    privileged: str
    sensitive: str
    changed: str  # a register that just changed
    grid: str
    rings: tuple[str, str, str, str] = ("#d8d8d8", "#e4e4e4", "#eeeeee", "#f6f6f6")
    root: str = "#e8dff0"
    techniques: dict[str, str] = field(default_factory=lambda: dict(TECHNIQUE_COLOURS))
    events: dict[str, str] = field(default_factory=lambda: dict(EVENT_COLOURS))


THEMES: dict[str, Theme] = {
    "light": Theme("light", "#fafafa", "#ffffff", "#1a1a1a", "#666666", BLUE, VERMILION,
                   ORANGE, "#fff2b3", "#dddddd"),
    "dark": Theme("dark", "#1e1f22", "#2b2d30", "#e8e8e8", "#a0a0a0", SKY, ORANGE, YELLOW,
                  "#5a4a00", "#444444", rings=("#3a3d42", "#34373b", "#2f3135", "#2a2c2f"),
                  root="#3d3346",
                  techniques={**TECHNIQUE_COLOURS, "binary-translation": SKY,
                              "native": "#cccccc"}),
    "high-contrast": Theme("high-contrast", "#000000", "#000000", "#ffffff", "#ffffff",
                           YELLOW, YELLOW, "#00ffff", "#0000aa", "#ffffff",
                           rings=("#303030", "#202020", "#101010", "#000000"), root="#301040",
                           techniques={k: c for k, c in zip(
                               TECHNIQUE_COLOURS, ("#ffffff", YELLOW, "#00ffff", "#00ff00",
                                                   "#ff80ff"), strict=True)}),
}
DEFAULT_THEME = "light"
BASE_POINT_SIZE = 10
PRESENTATION_SCALE = 1.6
