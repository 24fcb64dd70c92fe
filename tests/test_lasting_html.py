"""The URL-independent HTML of a result: thumbnails and local links, hostile values inert."""

from __future__ import annotations

import re

from runcomfy_nb import lasting_html

THUMB = {"src": "data:image/webp;base64,UklGRg==", "width": 256, "height": 144}


def test_image_shows_its_thumbnail_and_links_the_local_copy() -> None:
    out = lasting_html.output_html({"kind": "image", "name": "fox.png", "url": "https://cdn.example/fox.png?sig=1&x=2",
                                    "local": "runcomfy_outputs/fox 1.png", "thumb": THUMB})
    assert '<img src="data:image/webp;base64,UklGRg==" width="256" height="144" alt="fox.png"' in out
    assert '<a href="runcomfy_outputs/fox%201.png" target="_blank" rel="noopener">' in out
    assert "cdn.example" not in out  # the expiring URL is not needed at all
    no_local = lasting_html.output_html({"kind": "image", "name": "n", "url": "https://cdn.example/a.png?x=1&y=2",
                                         "thumb": THUMB})
    assert '<a href="https://cdn.example/a.png?x=1&amp;y=2"' in no_local
    bare = lasting_html.output_html({"kind": "image", "name": "n", "url": "https://cdn.example/a.png"})
    assert '<img src="https://cdn.example/a.png" alt="n"' in bare  # nothing better: the URL itself


def test_video_shows_a_poster_with_its_duration_or_a_labelled_box() -> None:
    out = lasting_html.output_html({"kind": "video", "name": "clip.mp4", "local": "runcomfy_outputs/clip.mp4",
                                    "thumb": THUMB, "duration": 5.0625})
    assert 'data-kind="video"' in out and "<img src=\"data:image/webp" in out and "▶ video · 5.1 s" in out
    assert '<a href="runcomfy_outputs/clip.mp4"' in out
    box = lasting_html.output_html({"kind": "video", "name": "clip.mp4", "url": "https://x.example/c.mp4",
                                    "duration": 125})
    assert "▶ video · 2:05" in box and '<a href="https://x.example/c.mp4"' in box and "<img" not in box
    assert "▶ video<br><code>clip.mp4</code>" in lasting_html.output_html({"kind": "video", "name": "clip.mp4"})


def test_hostile_values_are_text() -> None:
    out = lasting_html.output_html({
        "kind": "image", "name": '<script>alert(1)</script>"', "url": "javascript:alert(1)",
        "local": "../../etc/passwd", "thumb": {"src": "data:text/html;base64,PHNjcmlwdD4=", "width": "9\" onload=x"}})
    assert "<script" not in out and "javascript:" not in out and "../" not in out and "data:text" not in out
    assert "onload" not in out and "<img" not in out
    assert "&lt;script&gt;" in out
    for local in ("/etc/passwd", "C:/x.png", "a\\b.png", "file:///x", "a/../../b", "x\n.png"):
        assert lasting_html.local_href(local) is None, local
    assert lasting_html.local_href("runcomfy_outputs/a b#c?.png") == "runcomfy_outputs/a%20b%23c%3F.png"
    assert lasting_html.web_url("http://[::1") is None and lasting_html.web_url("https://ok.example/x") is not None
    assert re.search(r"<code>", lasting_html.output_html({"kind": "file", "name": "x.bin", "url": "ftp://x"}))
