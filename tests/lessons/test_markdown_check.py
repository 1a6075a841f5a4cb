"""Prose: CommonMark, no raw HTML, images only from inside the pack."""

from __future__ import annotations

import pytest
from pack_files import INTRO_MD, LESSON_TOML, pack_folder

from vizvm.lessons.errors import PackError
from vizvm.lessons.loader import load_pack
from vizvm.lessons.markdown_check import check, render_html
from vizvm.lessons.model import Where

AT = Where("l/intro.md", 1)


@pytest.mark.parametrize(("text", "line", "what"), [
    ("# Title\n\n<div>\nhi\n</div>\n", 3, "raw HTML"),
    ("one\ntwo <b>bold</b>\n", 2, "raw HTML"),
    ("one\ntwo\nthree <script>x()</script>\n", 3, "raw HTML"),
    ("- a\n- b\n\n  <!-- hidden -->\n", 4, "raw HTML"),
    ("text\n\n![x](https://example.org/x.png)\n", 3, "is not a file of the pack"),
    ("![x](//example.org/x.png)\n", 1, "is not a file of the pack"),
    ("![x](/etc/x.png)\n", 1, "absolute path"),
    ("![x](../other/x.png)\n", 1, "'..'"),
    ("![x](data:image/png;base64,AAAA)\n", 1, "is not a file of the pack"),
])
def test_refused_with_the_line(text, line, what):
    found = check(text, AT)
    assert found, text
    assert found[0].where == Where("l/intro.md", line)
    assert what in found[0].message


def test_lines_count_from_where_the_text_starts():
    (found,) = check("a\n<i>b</i> c\n", Where("l/lesson.toml", 40))[:1]
    assert found.where.line == 41


@pytest.mark.parametrize("text", [
    "# Fine\n\nSome *emphasis*, `code <b>`, and a [link](https://example.org).\n",
    "```\n<div>in a code block</div>\n```\n",
    "An autolink <https://example.org> is a link, not HTML.\n",
    "![ring diagram](img/rings.png)\n",
    "Escaped \\<b> is text.\n",
])
def test_allowed(text):
    assert check(text, AT, {"l/img/rings.png": b"png"}, "l") == []


def test_an_image_must_exist_in_the_pack():
    (found,) = check("![a](img/none.png)\n", AT, {}, "l")
    assert "no such file in the pack (l/img/none.png)" in found.message


def test_render_html_drops_raw_html_and_remote_images():
    html = render_html("x <b>y</b>\n\n![far](https://e.org/a.png) ![near](a.png)\n")
    assert "<b>" not in html and "&lt;b&gt;" in html
    assert "e.org" not in html and "far" in html
    assert '<img src="a.png" alt="near"' in html


def test_the_loader_reports_html_in_a_text_file(tmp_path):
    with pytest.raises(PackError) as caught:
        load_pack(pack_folder(tmp_path, {"rings/intro.md": INTRO_MD + "\n<iframe src=x>\n"}))
    assert [str(p) for p in caught.value.problems] == [
        "rings/intro.md:5: raw HTML is not allowed in lesson text: <iframe src=x>"]


def test_the_loader_reports_html_in_prompts_and_feedback(tmp_path):
    text = (LESSON_TOML.replace('prompt = "Why?"', 'prompt = "Why <em>now</em>?"')
            .replace('feedback = "no"', 'feedback = "![x](http://e.org/t.png)"'))
    with pytest.raises(PackError) as caught:
        load_pack(pack_folder(tmp_path, {"rings/lesson.toml": text}))
    lines = {p.where.line for p in caught.value.problems}
    assert lines == {text[: text.index("Why <em>")].count("\n") + 1,
                     text[: text.index("![x]")].count("\n") + 1}


@pytest.mark.parametrize(("body", "offset"), [
    ('body = "one\\n\\ntwo <b>x</b>"', 0),  # one line in the file, whatever it holds
    ('body = """\none\n\ntwo <b>x</b>\n"""', 3),  # a multi-line string: its own lines
    ('body = """one\n\ntwo <b>x</b>"""', 2),
])
def test_inline_bodies_report_lines_of_lesson_toml(tmp_path, body, offset):
    text = LESSON_TOML.replace('body = "Run it {calls} times."', body)
    with pytest.raises(PackError) as caught:
        load_pack(pack_folder(tmp_path, {"rings/lesson.toml": text}))
    line = text[: text.index("body =")].count("\n") + 1 + offset
    assert [p.where.line for p in caught.value.problems] == [line, line]  # <b> and </b>
