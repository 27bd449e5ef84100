"""Input image thumbnails for the view and its saved rendering: small, checked, self-describing.

A view shows the images a prompt carried (``ThinkView(images=[...])`` or ``view.show_images``)
as a strip of thumbnails above the reasoning. An item is anything ``think(images=...)`` takes
(see :mod:`thinkbook._images`: a ``data:image/...;base64,`` URL, an ``https://`` URL, a path,
bytes, a PIL image, a matplotlib Figure), checked the same way: only PNG, JPEG, GIF and WEBP.

The thumbnail is embedded in the notebook, so it must stay small:

* with Pillow installed (it is optional), an image larger than :data:`THUMB_PX` pixels on a side
  is scaled down and re-encoded (PNG when it has transparency, else JPEG): a few KB each;
* without Pillow nothing can be scaled, so an image of at most :data:`MAX_EMBED_BYTES` is embedded
  as it is, and a larger one is shown as a line of text saying its size and why (no image);
* an ``https://`` image is shown by its URL (the user chose it; the model server fetches it too);
  an ``http://`` one is named, not loaded (a notebook served over https would block it anyway).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

from ._images import ImageInput, image_input

__all__ = ["MAX_EMBED_BYTES", "THUMB_PX", "thumbnails"]

THUMB_PX = 192  # the stored thumbnail's longest side (shown at half that: sharp on HiDPI screens)
SHOW_PX = 96  # the height it is shown at
MAX_EMBED_BYTES = 150_000
MAX_URL_CHARS = 2_000


def _pillow_thumbnail(data: bytes) -> tuple[str, int, int] | None:
    """(data URL, width, height) of a scaled-down copy, or None without Pillow (or if it cannot read it)."""
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if max(width, height) <= THUMB_PX and len(data) <= MAX_EMBED_BYTES:
                return "", width, height  # small already: keep the original bytes
            frame = image.convert("RGBA") if image.mode in ("P", "LA", "PA") else image.copy()
            frame.thumbnail((THUMB_PX, THUMB_PX))
            buffer = io.BytesIO()
            if frame.mode == "RGBA":
                frame.save(buffer, format="PNG", optimize=True)
                mime = "image/png"
            else:
                frame.convert("RGB").save(buffer, format="JPEG", quality=80)
                mime = "image/jpeg"
            encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
            return f"data:{mime};base64,{encoded}", frame.width, frame.height
    except Exception:  # Pillow's own errors vary by format and version: no thumbnail, not a crash
        return None


def _shown_size(width: int, height: int) -> dict[str, int]:
    if height <= SHOW_PX:
        return {"w": width, "h": height}
    return {"w": max(1, round(width * SHOW_PX / height)), "h": SHOW_PX}


def _inline_thumbnail(image: ImageInput, alt: str) -> dict[str, Any]:
    made = _pillow_thumbnail(image.data)
    if made is not None:
        url, width, height = made
        return {"src": url or image.data_url(), "alt": alt, **_shown_size(width, height)}
    if len(image.data) <= MAX_EMBED_BYTES:
        return {"src": image.data_url(), "alt": alt}
    size = f"{len(image.data) / 1e6:.1f} MB" if len(image.data) >= 1e6 else f"{len(image.data) // 1000} KB"
    return {"src": "", "alt": f"{alt} ({image.mime}, {size}: not embedded; install Pillow for thumbnails)"}


def _url_thumbnail(url: str, alt: str) -> dict[str, Any]:
    if len(url) > MAX_URL_CHARS or any(char in url for char in "\"'<>\\") or any(ord(c) <= 0x20 for c in url):
        return {"src": "", "alt": f"{alt} (a URL with quotes, spaces or brackets: not shown)"}
    if url.lower().startswith("https://"):
        return {"src": url, "alt": alt}
    return {"src": "", "alt": f"{alt} ({url[:120]}: not loaded, not https)"}


def thumbnails(images: Sequence[object] | None) -> list[dict[str, Any]]:
    """``[{"src", "alt", "w"?, "h"?}]`` for the view's ``images`` trait (module docstring).

    ``src`` is a ``data:image/(png|jpeg|gif|webp);base64,`` or ``https://`` URL, or ``""`` when the
    image is described, not shown. Bad items raise :class:`~thinkbook.ConfigurationError`.
    """
    if images is None:
        return []
    if isinstance(images, str | bytes | bytearray) or not isinstance(images, Sequence):
        images = [images]
    shown = []
    for number, item in enumerate(images, start=1):
        image = image_input(item)
        alt = f"input image {number}"
        if image.url is not None:
            shown.append(_url_thumbnail(image.url, alt))
        else:
            shown.append(_inline_thumbnail(image, alt))
    return shown
