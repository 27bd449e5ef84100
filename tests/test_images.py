"""Images for vision models: every accepted form, and refusals before sending (thinkbook/_images.py)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from thinkbook import ConfigurationError
from thinkbook._images import MAX_IMAGE_BYTES, content_with_images, image_input, image_inputs, sniff_mime

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_bytes_and_paths_become_data_urls_with_the_sniffed_type(tmp_path: Path) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 16
    (tmp_path / "photo.dat").write_bytes(jpeg)  # the name does not decide the type: the bytes do
    for item in (jpeg, tmp_path / "photo.dat", str(tmp_path / "photo.dat")):
        image = image_input(item)
        assert image.mime == "image/jpeg"
        assert image.data_url() == "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
    assert sniff_mime(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_mime(b"GIF89a...") == "image/gif"


def test_urls_pass_through_and_data_urls_are_checked() -> None:
    assert image_input("https://example.com/cat.png").content_part() == {
        "type": "image_url",
        "image_url": {"url": "https://example.com/cat.png"},
    }
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert image_input(data_url).data == PNG
    with pytest.raises(ConfigurationError, match="not valid base64"):
        image_input("data:image/png;base64,***")
    with pytest.raises(ConfigurationError, match="must look like data:image/png;base64"):
        image_input("data:text/html;base64,PGI+")


def test_a_matplotlib_figure_and_a_pil_image_are_rendered_to_png() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    figure, axes = plt.subplots(figsize=(2, 2))
    axes.plot([1, 2, 3], [3, 1, 2])
    image = image_input(figure)
    plt.close(figure)
    assert image.mime == "image/png" and image.data.startswith(b"\x89PNG")
    opened = Image.open(io.BytesIO(image.data))
    assert opened.size[0] > 50
    cmyk = Image.new("CMYK", (8, 8))
    assert image_input(cmyk).mime == "image/png"


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        (b"<html>not an image</html>", "is not a PNG, JPEG, GIF or WEBP image"),
        (PNG + b"\x00" * MAX_IMAGE_BYTES, "vision APIs take at most 3.75 MB per image: shrink it"),
        ("/no/such/picture.png", "does not exist"),
        ("   ", "an image is an empty string"),
        ("https://example.com/a cat.png", "contains spaces"),
        (3.14, "cannot use a float as an image"),
    ],
)
def test_bad_images_are_refused_before_sending(item: object, fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=fragment):
        image_input(item)


def test_a_folder_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="is a folder"):
        image_input(tmp_path)


def test_content_parts_put_images_before_the_text() -> None:
    images = image_inputs(PNG)  # one item need not be wrapped in a list
    content = content_with_images("What is drawn?", images)
    assert isinstance(content, list) and [part["type"] for part in content] == ["image_url", "text"]
    assert content[1] == {"type": "text", "text": "What is drawn?"}
    assert content_with_images("plain", ()) == "plain"
    with pytest.raises(ConfigurationError, match="at most 20"):
        image_inputs([PNG] * 21)
