"""The manifest of a provider batch: one JSON file, plus a local copy of each request file.

``runs/q-batch.json`` holds the ids (files, jobs), the last known status, the ``custom_id`` ->
prompt table and the limits used; ``runs/q-batch.requests-1.jsonl`` ... are the uploaded request
files, and ``runs/q-batch.output-1.jsonl`` / ``.errors-1.jsonl`` the downloaded results. It is
rewritten atomically (a temporary file, then a rename) after every step, so a crash leaves the
previous complete version. No key is ever written here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .._errors import ConfigurationError
from .lines import InputFile

__all__ = ["Manifest"]


class Manifest:
    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigurationError(
                f"no batch manifest at {path}: submit_batch(..., manifest=...) writes one"
            ) from None
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read the batch manifest {path}: {exc}") from None
        if not isinstance(data, dict) or data.get("thinkbook_batch") != 1 or not isinstance(data.get("jobs"), list):
            raise ConfigurationError(f"{path} is not a thinkbook batch manifest")
        return cls(path, data)

    @classmethod
    def create(cls, path: Path, data: dict[str, Any], files: list[InputFile]) -> Manifest:
        """Write the request files and the manifest (nothing is sent yet)."""
        if path.is_dir():
            raise ConfigurationError(f"manifest={str(path)!r} is a folder: name a file, e.g. {path / 'batch.json'}")
        path.parent.mkdir(parents=True, exist_ok=True)
        jobs = []
        for number, file in enumerate(files, 1):
            name = f"{path.stem}.requests-{number}.jsonl"
            (path.parent / name).write_bytes(file.data())
            ids = [json.loads(line)["custom_id"] for line in file.lines]
            jobs.append(
                {
                    "requests": name,
                    "model": file.model,
                    "enable_thinking": file.enable_thinking,
                    "lines": len(file.lines),
                    "bytes": file.size,
                    "custom_ids": ids,
                    "input_file_id": None,
                    "batch_id": None,
                    "status": None,
                }
            )
        manifest = cls(path, {**data, "jobs": jobs})
        manifest.write()
        return manifest

    def write(self) -> None:
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(self.data, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        os.replace(temporary, self.path)

    def request_file(self, job: dict[str, Any]) -> Path:
        return self.path.parent / str(job["requests"])

    def request_lines(self) -> list[dict[str, Any]]:
        lines = []
        for job in self.data["jobs"]:
            for raw in self.request_file(job).read_text(encoding="utf-8").splitlines():
                if raw.strip():
                    lines.append(json.loads(raw))
        return lines

    def rows_of(self, job: dict[str, Any]) -> list[dict[str, Any]]:
        ids = set(job.get("custom_ids") or ())
        return [row for row in self.data["rows"] if row["custom_id"] in ids]

    def download_path(self, number: int, kind: str) -> Path:
        suffix = "output" if kind == "output_file_id" else "errors"
        return self.path.parent / f"{self.path.stem}.{suffix}-{number}.jsonl"
