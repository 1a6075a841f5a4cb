"""The command functions of `vizvm lesson new | pack | list`."""

from __future__ import annotations

import argparse
import json

import pytest
from pack_files import pack_folder

from vizvm.cli import lesson_authoring
from vizvm.lessons import builtin
from vizvm.lessons.errors import PackError


def test_new_then_pack_then_list(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    doc, text = lesson_authoring.new(argparse.Namespace(name="course", directory=str(tmp_path)))
    assert not doc["added_to_pack"] and "course" in text
    doc, _ = lesson_authoring.new(argparse.Namespace(name="more", directory="course"))
    assert doc["added_to_pack"]
    doc, text = lesson_authoring.pack(argparse.Namespace(path="course", output=None))
    assert doc["zip"].endswith("course-0.1.0.zip") and doc["id"] == "course"
    monkeypatch.setattr(builtin, "builtin_pack_dirs", list)
    doc, text = lesson_authoring.list_packs(argparse.Namespace(pack=doc["zip"]))
    (entry,) = doc["packs"]
    assert entry["ok"] and [lesson["id"] for lesson in entry["lessons"]] == ["first-lesson",
                                                                              "more"]
    assert entry["lessons"][0]["points"] == 4 and entry["lessons"][0]["steps"] == 2
    assert "first-lesson" in text and "more" in text
    json.dumps(doc)


def test_a_broken_pack_asked_for_is_an_error_with_its_problems(tmp_path, monkeypatch):
    monkeypatch.setattr(builtin, "builtin_pack_dirs", list)
    broken = pack_folder(tmp_path, {"rings/intro.md": "<b>x</b>\n"})
    with pytest.raises(PackError, match="raw HTML"):
        lesson_authoring.list_packs(argparse.Namespace(pack=str(broken)))


def test_a_broken_builtin_pack_is_listed_with_its_problems(tmp_path, monkeypatch):
    broken = pack_folder(tmp_path, {"rings/intro.md": "<b>x</b>\n"})
    monkeypatch.setattr(builtin, "builtin_pack_dirs", lambda: [broken])
    doc, text = lesson_authoring.list_packs(argparse.Namespace(pack=None))
    (entry,) = doc["packs"]
    assert not entry["ok"] and "raw HTML" in entry["problems"][0]
    assert "cannot be opened" in text and "rings/intro.md:1" in text


def test_the_builtin_packs_are_listed_without_a_crash():
    doc, _ = lesson_authoring.list_packs(argparse.Namespace(pack=None))
    assert len(doc["packs"]) == len(builtin.builtin_pack_dirs())


def test_pack_refuses_a_broken_pack(tmp_path):
    broken = pack_folder(tmp_path, {"pack.toml": "format = 1\n"})
    with pytest.raises(PackError):
        lesson_authoring.pack(argparse.Namespace(path=str(broken), output=str(tmp_path)))
