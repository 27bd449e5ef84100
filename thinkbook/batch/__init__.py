"""Many prompts from one notebook: the local runner, the provider's batch API, vLLM batch files.

* :func:`batch` runs prompts on thinkbook's engine with adaptive concurrency, resumable with
  ``cache=`` (:mod:`.runner`, :mod:`.limiter`, :mod:`.cache`, :mod:`.progress`).
* :func:`submit_batch` / :class:`BatchJob` send them to Bailian's OpenAI-compatible
  ``/files`` + ``/batches`` API at half price (:mod:`.provider`, :mod:`.lines`).
* :meth:`BatchJob.export` and :func:`load_batch_output` round-trip ``vllm run-batch`` files
  (:mod:`.vllm`).

Import from here (``from thinkbook.batch.runner import ...``); ``thinkbook.batch`` itself, once
``thinkbook`` is imported, is the :func:`batch` function.
"""

from __future__ import annotations

from .lines import BatchLimits
from .provider import BatchJob, BatchStatus, submit_batch
from .result import BatchInterrupted, BatchResult, BatchRow
from .runner import batch
from .vllm import load_batch_output

__all__ = [
    "BatchInterrupted",
    "BatchJob",
    "BatchLimits",
    "BatchResult",
    "BatchRow",
    "BatchStatus",
    "batch",
    "load_batch_output",
    "submit_batch",
]
