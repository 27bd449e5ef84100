"""Images for vision thinking models: whatever the user has, turned into content parts.

``think(prompt, images=[...])`` accepts, per item: a file path (``str`` or ``pathlib.Path``),
raw ``bytes``, an ``http(s)`` URL, a ``data:image/...;base64,`` URL, a PIL image, or a matplotlib
``Figure`` (the figure a cell just drew is the natural first use). Every item becomes an
:class:`ImageInput` (checked before anything is sent), and the prompt becomes OpenAI-format
content parts: the images first, then the text, as Bailian's vision guide orders them::

    [{"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}}, {"type": "text", "text": ...}]

That neutral form is what the history holds; each protocol module translates it (DashScope native
``{"image": ...}``, Anthropic ``image`` blocks, Gemini ``inlineData``, Responses ``input_image``).

Only the formats every vision API takes are accepted (PNG, JPEG, GIF, WEBP; recognised by their
magic bytes, not by a file name), and an image larger than :data:`MAX_IMAGE_BYTES` is refused with
a message saying how to shrink it: providers reject bigger ones with an opaque 400 after the upload.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import ConfigurationError

__all__ = [
    "MAX_IMAGE_BYTES",
    "ImageInput",
    "attach_images",
    "content_with_images",
    "image_input",
    "image_inputs",
]

# Bailian's vision guide limits a base64-encoded image to 10 MB; Anthropic to 5 MB of base64
# (3.75 MB raw). The stricter common bound keeps a notebook portable across providers.
MAX_IMAGE_BYTES = 3_750_000
MAX_IMAGES = 20

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_DATA_URL = re.compile(r"^data:(image/(?:png|jpeg|gif|webp));base64,(.*)$", re.DOTALL)


@dataclass(frozen=True)
class ImageInput:
    """One image, ready to send: inline bytes with their type, or a URL the provider fetches."""

    mime: str = ""
    data: bytes = field(default=b"", repr=False)
    url: str | None = None
    source: str = ""  # how the user gave it, for messages ("figure", "photo.png", "bytes")

    @property
    def is_inline(self) -> bool:
        return self.url is None

    def data_url(self) -> str:
        """``data:<mime>;base64,...`` (or the remote URL as given)."""
        if self.url is not None:
            return self.url
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"

    def content_part(self) -> dict[str, Any]:
        """The OpenAI-format content part (the neutral form protocols translate)."""
        return {"type": "image_url", "image_url": {"url": self.data_url()}}


def sniff_mime(data: bytes) -> str | None:
    """The image type from its first bytes (PNG, JPEG, GIF, WEBP), or None."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _inline(data: bytes, source: str) -> ImageInput:
    mime = sniff_mime(data)
    if mime is None:
        raise ConfigurationError(
            f"image {source} is not a PNG, JPEG, GIF or WEBP image (its first bytes are {data[:8]!r}): "
            "convert it, e.g. PIL.Image.open(path).save('image.png')"
        )
    if len(data) > MAX_IMAGE_BYTES:
        raise ConfigurationError(
            f"image {source} is {len(data) / 1e6:.1f} MB; vision APIs take at most {MAX_IMAGE_BYTES / 1e6:.2f} MB "
            "per image: shrink it first (e.g. img.thumbnail((1568, 1568)); img.save(path, quality=85)) "
            "or pass an https:// URL the provider can fetch"
        )
    return ImageInput(mime=mime, data=data, source=source)


def _from_string(text: str) -> ImageInput:
    stripped = text.strip()
    if stripped.startswith(("http://", "https://")):
        if any(char.isspace() for char in stripped):
            raise ConfigurationError(f"image URL {stripped[:80]!r} contains spaces: percent-encode them")
        return ImageInput(url=stripped, source=stripped[:80])
    match = _DATA_URL.match(stripped)
    if match:
        try:
            data = base64.b64decode(match.group(2), validate=True)
        except (binascii.Error, ValueError):
            raise ConfigurationError("the data: image URL is not valid base64") from None
        return _inline(data, "data: URL")
    if stripped.startswith("data:"):
        raise ConfigurationError("a data: image URL must look like data:image/png;base64,... (png, jpeg, gif, webp)")
    return _from_path(Path(os.path.expanduser(stripped)))


def _from_path(path: Path) -> ImageInput:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigurationError(
            f"image file {str(path)!r} does not exist (relative paths start at {os.getcwd()})"
        ) from None
    except IsADirectoryError:
        raise ConfigurationError(f"image {str(path)!r} is a folder, not an image file") from None
    except OSError as exc:
        raise ConfigurationError(f"cannot read image file {str(path)!r}: {exc.strerror or exc}") from None
    return _inline(data, repr(path.name))


def _from_figure(figure: Any) -> ImageInput:
    buffer = io.BytesIO()
    # bbox_inches="tight" drops the empty margins a model would otherwise spend tokens on.
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return _inline(buffer.getvalue(), "(matplotlib figure)")


def _from_pil(image: Any) -> ImageInput:
    buffer = io.BytesIO()
    frame = image if image.mode in ("RGB", "RGBA", "L", "LA", "P") else image.convert("RGBA")
    frame.save(buffer, format="PNG")
    return _inline(buffer.getvalue(), "(PIL image)")


def image_input(item: object) -> ImageInput:
    """One item of ``images=`` checked and converted (see the module docstring)."""
    if isinstance(item, ImageInput):
        return item
    if isinstance(item, bytes | bytearray | memoryview):
        return _inline(bytes(item), "(bytes)")
    if isinstance(item, str):
        if not item.strip():
            raise ConfigurationError("an image is an empty string: pass a path, a URL, bytes, a PIL image or a Figure")
        return _from_string(item)
    if isinstance(item, os.PathLike):
        return _from_path(Path(item))
    # Duck-typed so neither matplotlib nor PIL is imported (or required) unless the user has them.
    if callable(getattr(item, "savefig", None)):
        return _from_figure(item)
    if callable(getattr(item, "save", None)) and hasattr(item, "mode") and hasattr(item, "size"):
        return _from_pil(item)
    raise ConfigurationError(
        f"cannot use a {type(item).__name__} as an image: pass a file path, bytes, an http(s) URL, "
        "a PIL image or a matplotlib Figure"
    )


def image_inputs(images: Sequence[object] | None) -> tuple[ImageInput, ...]:
    """Every item of ``images=`` converted; a single item is accepted as a one-item list."""
    if images is None:
        return ()
    if isinstance(images, str | bytes | bytearray | os.PathLike) or not isinstance(images, Sequence):
        images = [images]
    if len(images) > MAX_IMAGES:
        raise ConfigurationError(f"{len(images)} images in one message; send at most {MAX_IMAGES}")
    return tuple(image_input(item) for item in images)


def content_with_images(text: str, images: Sequence[ImageInput]) -> str | list[dict[str, Any]]:
    """The user message content: the text alone, or image parts followed by the text part."""
    if not images:
        return text
    return [*(image.content_part() for image in images), {"type": "text", "text": text}]


def attach_images(messages: list[dict[str, Any]], images: Sequence[ImageInput]) -> list[dict[str, Any]]:
    """``messages`` with ``images`` put in the last user message, before its text (a copy when
    there are images; the messages themselves when there are none)."""
    if not images:
        return messages
    for position in range(len(messages) - 1, -1, -1):
        message = messages[position]
        if message.get("role") != "user":
            continue
        content = message.get("content")
        parts = [image.content_part() for image in images]
        if isinstance(content, str):
            new_content: list[dict[str, Any]] | str = content_with_images(content, images)
        elif isinstance(content, list):
            new_content = [*parts, *content]
        else:
            break
        return [*messages[:position], {**message, "content": new_content}, *messages[position + 1 :]]
    raise ConfigurationError("images= needs a user message to go with: the messages have none")
