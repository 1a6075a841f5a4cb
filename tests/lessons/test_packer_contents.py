"""`lesson pack` ships what the lessons use, nothing else, and a zip anyone may read."""

from __future__ import annotations

import argparse
import json
import os
import stat
import zipfile

import pytest
from pack_files import INTRO_MD, LESSON_TOML, pack_folder

from vizvm.cli import lesson_authoring
from vizvm.lessons import manifest
from vizvm.lessons.loader import load_pack
from vizvm.lessons.packer import pack, pack_used

PNG = b"\x89PNG\r\n\x1a\n" + bytes(16)
EXTRAS = {
    "notes.txt": "answer key: 42\n",  # the instructor's, beside pack.toml
    "rings/draft.md": "# Not yet\n",  # in a listed lesson's folder, named by nothing
    "rings/unused.png": PNG,
    "drafts/lesson.toml": 'id = "drafts"\n',  # a lesson folder pack.toml does not list
}
USED = {
    "rings/intro.md": INTRO_MD + "\n![the rings](figs/rings.png)\n",  # a text file's image
    "rings/figs/rings.png": PNG,
    "rings/lesson.toml": LESSON_TOML.replace('prompt = "Why?"',
                                             'prompt = "Why? ![ring](ring%200.png)"'),
    "rings/ring 0.png": PNG,  # an image of an inline prompt, its name %-escaped
}


def names(path) -> set[str]:
    with zipfile.ZipFile(path) as z:
        return {n.removeprefix("test-pack/") for n in z.namelist()} - {"MANIFEST.json"}


def test_only_what_the_lessons_use_is_packed_and_the_rest_is_named(tmp_path):
    folder = pack_folder(tmp_path, {**EXTRAS, **USED})
    written, left_out = pack_used(folder, tmp_path / "out.zip")
    assert names(written) == {"pack.toml", "rings/lesson.toml", "rings/intro.md",
                              "rings/driver.asm", "rings/driver.bin", "rings/figs/rings.png",
                              "rings/ring 0.png"}
    assert left_out == sorted(EXTRAS)


def test_the_zips_hash_is_what_loading_it_computes(tmp_path):
    folder = pack_folder(tmp_path, EXTRAS)
    written = pack(folder, tmp_path / "out.zip")
    loaded = load_pack(written)  # verifies MANIFEST.json, content_hash included
    with zipfile.ZipFile(written) as z:
        stated = json.loads(z.read("MANIFEST.json"))["content_hash"]
    assert stated == loaded.content_hash == manifest.content_hash(loaded.files)
    assert loaded.content_hash != load_pack(folder).content_hash  # the folder holds more


def test_a_folder_with_nothing_unused_hashes_as_its_zip(tmp_path):
    folder = pack_folder(tmp_path, USED)
    assert load_pack(pack(folder, tmp_path / "o.zip")).content_hash == \
        load_pack(folder).content_hash


def test_the_command_says_what_it_left_out(tmp_path):
    folder = pack_folder(tmp_path, EXTRAS)
    doc, text = lesson_authoring.pack(argparse.Namespace(path=str(folder),
                                                         output=str(tmp_path / "o.zip")))
    said = [f"left out: {path} (not used by any lesson)" for path in sorted(EXTRAS)]
    assert doc["left_out"] == said
    assert text.splitlines()[:len(said)] == said
    assert doc["files"] == 5


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_the_zip_gets_the_usual_permissions(tmp_path, umask):
    folder = pack_folder(tmp_path)
    old = os.umask(umask)
    try:
        written = pack(folder, tmp_path / "o.zip")
    finally:
        os.umask(old)
    assert stat.S_IMODE(written.stat().st_mode) == 0o644 & ~umask
