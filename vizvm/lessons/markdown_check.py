"""Lesson prose is CommonMark without raw HTML; images only from inside the pack.

Raw HTML could carry scripts, styles or remote content into the window, and a
remote image would make opening a lesson fetch from the network, so both are
refused when a pack loads, with the file and the line; `render_html` also
drops them, so the window never shows one even from unchecked text.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from html import escape
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import OptionsDict

from vizvm.lessons.errors import Problem
from vizvm.lessons.model import Where

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# CommonMark plus GitHub's tables, which lessons comparing techniques need
_PARSER = MarkdownIt("commonmark").enable("table")  # html on: raw HTML shows up as tokens
_RENDERER = MarkdownIt("commonmark", {"html": False}).enable("table")


def image_reason(src: str) -> str | None:
    """Why an image source is refused, or None for a relative path inside the pack."""
    path = unquote(src)
    if _SCHEME.match(path) or path.startswith("//"):
        return "is not a file of the pack (images may not come from the network or "\
            "another place)"
    if path.startswith("/") or "\\" in path:
        return "is an absolute path (name a file of the pack, relative to the text)"
    if ".." in path.split("/"):
        return "has a '..' component (name a file inside the lesson's folder)"
    return None


def check(text: str, where: Where, files: dict[str, bytes] | None = None,
          folder: str = "") -> list[Problem]:
    """Every raw HTML tag and every image from outside the pack, each at its line.

    `where` is the place of the text's first line; with `files`, an image must also
    name a file of the pack, relative to `folder`.
    """
    found: list[Problem] = []

    def at(offset: int) -> Where:
        return Where(where.file, where.line + offset if where.line else 0)

    for token in _PARSER.parse(text):
        first = token.map[0] if token.map else 0
        if token.type == "html_block":
            found.append(Problem(at(first), f"raw HTML is not allowed in lesson text: "
                                 f"{_snippet(token.content)}"))
        for child, line in _inline(token.children or (), first):
            if child.type == "html_inline":
                found.append(Problem(at(line), f"raw HTML is not allowed in lesson text: "
                                     f"{_snippet(child.content)}"))
            elif child.type == "image":
                src = str(child.attrs.get("src", ""))
                reason = image_reason(src)
                if reason:
                    found.append(Problem(at(line), f"image {src!r} {reason}"))
                elif files is not None:
                    path = _pack_path(folder, src)
                    if path not in files:
                        found.append(Problem(at(line), f"image {src!r}: no such file in "
                                             f"the pack ({path})"))
    return found


def image_paths(text: str, folder: str) -> list[str]:
    """The pack paths of the images `text` shows from inside the pack (relative to
    `folder`): what `lesson pack` must ship with the text."""
    return [_pack_path(folder, str(child.attrs.get("src", "")))
            for token in _PARSER.parse(text)
            for child, _line in _inline(token.children or (), 0)
            if child.type == "image" and not image_reason(str(child.attrs.get("src", "")))]


def _pack_path(folder: str, src: str) -> str:
    return posixpath.normpath(posixpath.join(folder, unquote(src)))


def _inline(children: Sequence[Token], first: int) -> list[tuple[Token, int]]:
    """Each inline token with its line (0-based in the text), counting line breaks."""
    out = []
    line = first
    for child in children:
        out.append((child, line))
        if child.type in ("softbreak", "hardbreak"):
            line += 1
        else:
            line += child.content.count("\n") if child.type == "html_inline" else 0
    return out


def _snippet(html: str) -> str:
    line = html.strip().splitlines()[0] if html.strip() else html
    return line if len(line) <= 60 else line[:57] + "..."


def _image(renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict,
           env: dict) -> str:
    token = tokens[idx]
    if image_reason(str(token.attrs.get("src", ""))):
        return escape(token.content)  # the alt text only: nothing is fetched
    return renderer.image(tokens, idx, options, env)


_RENDERER.add_render_rule("image", _image)


def render_html(markdown: str) -> str:
    """HTML for the window: raw HTML shown as text, remote or absolute images dropped."""
    return _RENDERER.render(markdown)
