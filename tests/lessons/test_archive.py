"""Reading packs from strangers: folders and zips, never extracted, every cap held."""

from __future__ import annotations

import os
import stat
import zipfile

import pytest
from pack_files import files, write_folder, write_zip

from vizvm.lessons import archive
from vizvm.lessons.errors import PackError
from vizvm.lessons.loader import load_pack


def refused(path) -> str:
    with pytest.raises(PackError) as caught:
        archive.read_pack(path)
    (problem,) = caught.value.problems
    return str(problem)


def test_a_folder_skips_dot_files_and_caches(tmp_path):
    root = write_folder(tmp_path / "p", files({".git/config": "x", "rings/__pycache__/a.pyc":
                                               b"x", "rings/.notes.md.swp": b"x"}))
    found = archive.read_pack(root)
    assert set(found.files) == set(files())
    assert ".git" in found.skipped


def test_a_zip_with_a_top_folder_reads_as_the_folder(tmp_path):
    entries = files()
    top = write_zip(tmp_path / "top.zip", entries, prefix="my-pack/")
    flat = write_zip(tmp_path / "flat.zip", entries)
    assert archive.read_pack(top).files == archive.read_pack(flat).files
    assert load_pack(top).content_hash == load_pack(write_folder(tmp_path / "f", entries)
                                                   ).content_hash


@pytest.mark.parametrize(("name", "reason"), [
    ("../evil", "'..' component"),
    ("rings/../../evil", "'..' component"),
    ("/etc/passwd", "absolute path"),
    ("C:/Windows/evil", "names a drive"),
    ("rings\\evil.md", "backslash"),
    ("rings//x.md", "empty or '.'"),
])
def test_unsafe_names_are_refused_by_name(tmp_path, name, reason):
    path = write_zip(tmp_path / "bad.zip", {**files(), name: "x"})
    message = refused(path)
    assert name in message and reason in message


def _entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    return info


@pytest.mark.parametrize(("mode", "reason"), [
    (stat.S_IFLNK | 0o777, "symbolic link"),
    (stat.S_IFCHR | 0o644, "not a regular file"),
    (stat.S_IFIFO | 0o644, "not a regular file"),
])
def test_links_and_devices_in_a_zip(tmp_path, mode, reason):
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files().items():
            z.writestr(name, data)
        z.writestr(_entry("rings/passwd", mode), "/etc/passwd")
    message = refused(path)
    assert "rings/passwd" in message and reason in message


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks here")
def test_a_symlink_in_a_folder(tmp_path):
    root = write_folder(tmp_path / "p", files())
    try:
        (root / "rings" / "secret.md").symlink_to("/etc/hostname")
    except OSError:
        pytest.skip("cannot make symlinks here")
    message = refused(root)
    assert "rings/secret.md" in message and "symbolic link" in message


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files().items():
            z.writestr(name, data)
        z.writestr("rings/big.md", b"\0" * (8 * 1024 * 1024))  # ~1000:1
    assert "compressed more than 200:1" in refused(path)


def test_a_lying_header_size_does_not_get_past_the_cap(tmp_path, monkeypatch):
    """A header that understates an entry: reading stops at the claim, and the entry is
    refused by name (its checksum fails) rather than read past it."""
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files().items():
            z.writestr(name, data)
        z.writestr("rings/big.md", b"\0" * (4 * 1024 * 1024))
    real = zipfile.ZipFile.infolist

    def lying(self):
        infos = real(self)
        for info in infos:
            if info.filename == "rings/big.md":
                info.file_size = 1000  # the header's claim
        return infos

    monkeypatch.setattr(zipfile.ZipFile, "infolist", lying)
    message = refused(path)
    assert "rings/big.md" in message and "CRC" in message


def test_too_many_files(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "MAX_FILES", 20)
    many = {**files(), **{f"rings/extra{i}.md": "x" for i in range(20)}}
    assert "more than 20 files" in refused(write_zip(tmp_path / "many.zip", many))
    assert "more than 20 files" in refused(write_folder(tmp_path / "many", many))


def test_a_file_over_the_size_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "MAX_FILE_BYTES", 1000)
    big = {**files(), "rings/big.md": "x" * 1001}
    assert "rings/big.md" in refused(write_folder(tmp_path / "big", big))
    assert "rings/big.md" in refused(write_zip(tmp_path / "big.zip", big, prefix="p/"))


def test_the_total_size_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 5000)
    many = {**files(), **{f"rings/part{i}.md": os.urandom(1000) for i in range(6)}}
    assert "more than" in refused(write_zip(tmp_path / "total.zip", many))


def test_a_duplicate_name(tmp_path):
    path = tmp_path / "dup.zip"
    with zipfile.ZipFile(path, "w") as z, pytest.warns(UserWarning, match="Duplicate"):
        for name, data in files().items():
            z.writestr(name, data)
        z.writestr("rings/intro.md", "again")
    assert "rings/intro.md" in refused(path) and "twice" in refused(path)


@pytest.mark.parametrize("layout", [
    {"a/pack.toml": "x", "b/other.md": "y"},
    {"a/b/pack.toml": "x"},
    {"readme.md": "x"},
])
def test_pack_toml_must_be_at_the_root_or_in_one_top_folder(tmp_path, layout):
    assert "no pack.toml" in refused(write_zip(tmp_path / "x.zip", layout))


@pytest.mark.parametrize("content", [b"not a zip at all", b"PK\x03\x04broken"])
def test_not_a_zip(tmp_path, content):
    path = tmp_path / "x.zip"
    path.write_bytes(content)
    assert "not a readable .zip" in refused(path)


def test_nothing_there(tmp_path):
    assert "no such folder" in refused(tmp_path / "nope")


def test_a_folder_without_pack_toml(tmp_path):
    assert "no pack.toml" in refused(write_folder(tmp_path / "p", {"a.md": "x"}))


def test_a_zip_from_macos_finder_reads(tmp_path):
    entries = {f"my-pack/{name}": data for name, data in files().items()}
    entries["__MACOSX/my-pack/._pack.toml"] = b"\0\5\26\7"
    entries["my-pack/.DS_Store"] = b"\0"
    assert set(archive.read_pack(write_zip(tmp_path / "mac.zip", entries)).files) == set(files())


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_in_a_folder_is_refused_without_blocking(tmp_path):
    root = write_folder(tmp_path / "p", files())
    os.mkfifo(root / "rings" / "pipe.md")
    message = refused(root)
    assert "rings/pipe.md" in message and "not a regular file" in message


def test_an_unreadable_folder_is_a_problem_not_a_crash(tmp_path, monkeypatch):
    root = write_folder(tmp_path / "p", files())
    real = os.scandir

    def denied(path):
        if str(path).endswith("rings"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(archive.os, "scandir", denied)
    message = refused(root)
    assert "rings: cannot be read: Permission denied" in message
