"""A step's text: Markdown rendered to HTML, shown without ever following a link.

Links are shown, not followed; images load only from the pack's own files,
relative to the Markdown's folder. Nothing remote and nothing outside the pack
is ever read, whatever the Markdown says.
"""

from __future__ import annotations

import posixpath
import re

from PySide6.QtCore import QUrl
from PySide6.QtGui import QImage, QTextDocument
from PySide6.QtWidgets import QTextBrowser

_IMAGE = re.compile(r"<img\b[^>]*?(?:alt=\"([^\"]*)\")?[^>]*>", re.IGNORECASE)


class StepText(QTextBrowser):
    def __init__(self) -> None:
        super().__init__()
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.files: dict[str, bytes] = {}
        self.folder = ""  # the Markdown's folder inside the pack
        self.refused: list[str] = []  # addresses asked for and not loaded, for the curious

    def show_markdown(self, html: str, files: dict[str, bytes], folder: str) -> None:
        self.files, self.folder, self.refused = files, folder, []
        self.setHtml(html)

    def loadResource(self, kind: int, url: QUrl) -> object:  # noqa: N802 - Qt API
        if getattr(kind, "value", kind) == QTextDocument.ResourceType.ImageResource.value:
            data = self._pack_file(url)
            if data is not None:
                image = QImage()
                if image.loadFromData(data):
                    return image
        self.refused.append(url.toString())
        return None

    def _pack_file(self, url: QUrl) -> bytes | None:
        if url.scheme() or url.host() or url.isEmpty():
            return None  # http:, file:, data:, //host/...: never
        path = url.path()
        if path.startswith("/"):
            return None
        name = posixpath.normpath(posixpath.join(self.folder, path))
        if name.startswith("../") or name == "..":
            return None
        return self.files.get(name)


def without_images(html: str) -> str:
    """A prompt's HTML for a QLabel, which would load images on its own: alt text instead."""
    return _IMAGE.sub(lambda m: m.group(1) or "", html)
