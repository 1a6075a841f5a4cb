"""Packing: a deterministic zip with MANIFEST.json, and the loader's check of it."""

from __future__ import annotations

import json
import zipfile

import pytest
from pack_files import INTRO_MD, pack_folder, write_zip

from vizvm import __version__
from vizvm.lessons.errors import PackError
from vizvm.lessons.loader import load_pack
from vizvm.lessons.packer import pack


def test_a_pack_zips_under_its_id_with_a_manifest(tmp_path):
    folder = pack_folder(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    written = pack(folder, out)
    assert written == out / "test-pack-1.0.0.zip"
    with zipfile.ZipFile(written) as z:
        names = z.namelist()
        manifest = json.loads(z.read("MANIFEST.json"))
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in z.infolist())
    assert names == sorted(names)
    assert set(names) == {"MANIFEST.json", *(f"test-pack/{p}" for p in load_pack(folder).files)}
    loaded = load_pack(folder)
    assert manifest["content_hash"] == loaded.content_hash == load_pack(written).content_hash
    assert manifest["created_by"] == f"vizvm {__version__}"
    assert (manifest["id"], manifest["version"], manifest["format"]) == ("test-pack", "1.0.0", 1)
    assert manifest["files"]["rings/intro.md"]["size"] == len(INTRO_MD.encode())


def test_packing_twice_gives_the_same_bytes(tmp_path):
    folder = pack_folder(tmp_path)
    first = pack(folder, tmp_path / "a.zip").read_bytes()
    assert pack(folder, tmp_path / "b.zip").read_bytes() == first


def test_a_broken_pack_is_not_packed(tmp_path):
    folder = pack_folder(tmp_path, {"rings/intro.md": "<b>x</b>\n"})
    with pytest.raises(PackError, match="raw HTML"):
        pack(folder, tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()


def test_the_zip_is_not_written_inside_the_pack(tmp_path):
    folder = pack_folder(tmp_path)
    with pytest.raises(PackError, match="inside the pack folder"):
        pack(folder, folder / "self.zip")


def _repack(source, target, change):
    with zipfile.ZipFile(source) as z:
        entries = {name: z.read(name) for name in z.namelist()}
    change(entries)
    return write_zip(target, entries)


@pytest.mark.parametrize(("change", "expected"), [
    (lambda e: e.update({"test-pack/rings/intro.md": b"# Changed\n"}),
     "rings/intro.md: its SHA-256 differs from MANIFEST.json: altered after packing"),
    (lambda e: e.pop("test-pack/rings/driver.asm"),
     "rings/driver.asm: listed in MANIFEST.json but missing: removed after packing"),
    (lambda e: e.update({"test-pack/rings/extra.md": b"x"}),
     "rings/extra.md: not listed in MANIFEST.json: added after packing"),
    (lambda e: e.update({"MANIFEST.json": b"{not json"}),
     "MANIFEST.json: unreadable manifest"),
])
def test_a_zip_altered_after_packing_is_refused(tmp_path, change, expected):
    packed = pack(pack_folder(tmp_path), tmp_path / "good.zip")
    altered = _repack(packed, tmp_path / "bad.zip", change)
    with pytest.raises(PackError) as caught:
        load_pack(altered)
    assert any(expected in str(p) for p in caught.value.problems), caught.value.problems


def test_an_unwritable_output_is_a_problem_not_a_crash(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(PackError, match="cannot be written"):
        pack(pack_folder(tmp_path), blocker / "sub" / "x.zip")  # a file where a folder must be
