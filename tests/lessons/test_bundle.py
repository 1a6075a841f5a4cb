import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from lesson_factory import quiz_pack

from vizvm import __version__
from vizvm.lessons import variants
from vizvm.lessons.bundle import MAX_BYTES, SUFFIX, BundleError, export_bundle, read_bundle
from vizvm.lessons.checks import Verdict
from vizvm.lessons.progress import Progress


@pytest.fixture
def progress(tmp_path: Path) -> Iterator[Progress]:
    with Progress(tmp_path / "progress.sqlite3") as opened:
        yield opened


def test_a_bundle_holds_the_latest_answers_and_no_scores(progress: Progress,
                                                         tmp_path: Path) -> None:
    pack = quiz_pack()
    progress.record_answer("Ada L.", pack, "first", "rings", "3", Verdict(False, 0, "", ""), 11)
    progress.record_answer("Ada L.", pack, "first", "rings", "4", Verdict(True, 2, "", ""), 11)
    path = export_bundle(progress, "Ada L.", pack, tmp_path)
    assert path.name == f"Ada-L-{pack.id}{SUFFIX}"
    doc = json.loads(path.read_text())
    assert "points" not in path.read_text() and "correct" not in path.read_text()
    assert doc["app_version"] == __version__
    bundle = read_bundle(path)
    assert (bundle.student, bundle.pack_id, bundle.pack_version, bundle.content_hash) == (
        "Ada L.", pack.id, pack.version, pack.content_hash)
    assert bundle.lesson("first").answers == {"rings": "4"}
    assert bundle.lesson("first").seed == 11
    assert bundle.lesson("second").answers == {}
    assert bundle.lesson("second").seed == variants.seed_for("Ada L.", pack.id, "second")


def test_a_bundle_can_be_written_to_a_named_file(progress: Progress, tmp_path: Path) -> None:
    out = tmp_path / "mine.json"
    assert export_bundle(progress, "bob", quiz_pack(), out) == out
    assert read_bundle(out).student == "bob"


def valid() -> dict:
    return {"format": "vizvm-submission", "format_version": 1, "app_version": "0.1.0",
            "student": "ada", "pack": {"id": "demo-pack", "version": "1.0.0",
                                       "content_hash": "a" * 64},
            "lessons": [{"id": "first", "seed": 5, "answers": {"rings": "4"}}]}


def with_change(path: list, value: object) -> dict:
    doc = valid()
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@pytest.mark.parametrize(("doc", "message"), [
    (with_change(["format"], "something-else"), "not a vizvm submission"),
    (with_change(["format_version"], 9), "submission format 9 is not known"),
    (with_change(["format_version"], True), "format_version must be a whole number"),
    (with_change(["student"], ""), "student must be a non-empty text"),
    (with_change(["student"], KeyError), "student must be a non-empty text"),
    (with_change(["pack"], "demo-pack"), "pack must be a JSON object"),
    (with_change(["pack", "content_hash"], 7), "pack.content_hash must be a non-empty text"),
    (with_change(["lessons"], {}), '"lessons" must be a list'),
    (with_change(["lessons", 0, "seed"], "5"), "lessons[0].seed must be a whole number"),
    (with_change(["lessons", 0, "seed"], -1), "lessons[0].seed must be between"),
    (with_change(["lessons", 0, "answers"], ["4"]), "lessons[0].answers must be a JSON object"),
    (with_change(["lessons", 0, "answers", "rings"], 4), "lessons[0].answers.rings must be a"),
    ([1, 2], "the file must be a JSON object"),
])
def test_a_bad_bundle_is_refused_with_the_field(tmp_path: Path, doc: object,
                                                message: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(BundleError) as caught:
        read_bundle(path)
    assert message in str(caught.value) and str(path) in str(caught.value)


@pytest.mark.parametrize(("content", "message"), [
    (b'{"format": ', "b.json:1: not valid JSON"),
    (b"\xff\xfe\x00garbage", "not text (UTF-8)"),
])
def test_what_is_not_a_bundle_at_all(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "b.json"
    path.write_bytes(content)
    with pytest.raises(BundleError) as caught:
        read_bundle(path)
    assert message in str(caught.value)


def test_a_bundle_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    with path.open("wb") as out:
        out.truncate(MAX_BYTES + 1)  # sparse: no need to write 5 MiB
    with pytest.raises(BundleError, match="too large for a submission"):
        read_bundle(path)


def test_a_missing_bundle(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="cannot be read"):
        read_bundle(tmp_path / "nothing.json")
