"""thinkbook in marimo notebooks: the same live views, shown the marimo way.

marimo runs cells in its own kernel: there are no IPython magics (``%%think``), and a cell's
output is its last expression, shown when the cell ends. thinkbook's views are anywidgets, which
marimo renders natively (``mo.ui.anywidget``); this module puts them in the running cell's
output (``mo.output.append``) before the stream starts, so the reasoning and the answer stream
in while the cell runs. marimo binds a widget to its session when the widget is created, so the
view keeps updating from thinkbook's view thread.

>>> import thinkbook.marimo as tbm  # doctest: +SKIP
>>> result = tbm.think("9.11 和 9.9 哪个大？", model="qwen-plus", enable_thinking=True)  # doctest: +SKIP

End the cell with an assignment (``result = tbm.think(...)``) or with the view: a cell whose
last expression is a value shows that value instead of the streamed view. Stopping: marimo's
interrupt button stops a running cell (the view then says "stopped" and the partial answer is
on the :class:`~thinkbook.ThinkInterrupted` error).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from ._api import Prompt, _prepare_from
from ._checks import check_lang
from ._conversation import Conversation
from ._display import LiveDisplay
from ._errors import ConfigurationError, ThinkbookError
from ._protocols.base import Effort
from ._request import check_thinking_options
from ._run import aiter_events, run_blocking
from ._types import AnswerDelta, Done, ReasoningDelta, ThinkResult

__all__ = ["MarimoDisplay", "chat", "compare", "show", "think"]


def _marimo() -> Any:
    try:
        import marimo
    except ImportError:
        raise ConfigurationError(
            "thinkbook.marimo needs marimo: pip install marimo (in a Jupyter notebook use thinkbook.think)"
        ) from None
    return marimo


class MarimoDisplay(LiveDisplay):
    """A live view appended to the running marimo cell's output instead of IPython's display."""

    def start(self) -> None:
        self.view.begin()
        _marimo().output.append(show(self.view))


def show(obj: Any) -> Any:
    """A marimo element for a thinkbook object: a view, a :class:`ThinkResult`, or a ComparePanel.

    ``tbm.show(result)`` as a cell's last expression shows a finished answer (folded reasoning,
    answer, counters); a ComparePanel shows its columns side by side above its summary.
    """
    mo = _marimo()
    from ._view import ThinkView

    if isinstance(obj, ThinkResult):
        obj = ThinkView.from_result(obj)
    if isinstance(obj, ThinkView):
        return mo.ui.anywidget(obj)
    from ._compare_panel import ComparePanel

    if isinstance(obj, ComparePanel):
        columns = [mo.ui.anywidget(view) for view in obj.views]
        return mo.vstack([mo.hstack(columns, widths="equal", align="start", wrap=True), mo.ui.anywidget(
            obj.summary_widget
        )])  # fmt: skip
    raise ConfigurationError(
        f"thinkbook.marimo.show takes a ThinkResult, a ThinkView or a ComparePanel, got {type(obj).__name__}"
    )


def think(
    prompt: Prompt,
    *,
    model: str,
    base_url: str | None = None,
    api_key: str | None = None,
    protocol: str | None = None,
    region: str | None = None,
    dialect: str | None = None,
    enable_thinking: bool | None = None,
    thinking_budget: int | None = None,
    preserve_thinking: bool | None = None,
    effort: Effort | None = None,
    system: str | None = None,
    max_retries: int = 2,
    timeout: float | None = None,
    lang: str | None = None,
    **extra_body: Any,
) -> ThinkResult:
    """:func:`thinkbook.think` for marimo: the view streams in the running cell's output.

    Same options as :func:`thinkbook.think` (no ``display``: the view is always drawn). Bad input
    raises before anything is sent or drawn. Offline (no key), a matching recording replays.
    """
    request = _prepare_from(locals(), display=False)
    live = MarimoDisplay(request, lang=check_lang(lang))
    return run_blocking(request, max_retries=max_retries, timeout=timeout, live=live)


def compare(
    prompt: str,
    configs: Sequence[str | Mapping[str, Any]],
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    protocol: str | None = None,
    region: str | None = None,
    system: str | None = None,
    max_retries: int = 2,
    timeout: float | None = None,
    lang: str | None = None,
) -> Any:
    """A :class:`~thinkbook.ComparePanel` streaming in the running cell; returns it when all end.

    The columns appear side by side in the cell's output at once and stream together; the
    summary row fills in as they finish. ``panel.summary()`` / ``panel.to_dataframe()`` then
    hold the comparison. Options as for ComparePanel.
    """
    from ._compare_panel import ComparePanel

    panel = ComparePanel(
        prompt, configs, base_url=base_url, api_key=api_key, protocol=protocol, region=region, system=system,
        max_retries=max_retries, timeout=timeout, lang=check_lang(lang), start=False,
    )  # fmt: skip
    _marimo().output.append(show(panel))
    panel.start()
    try:
        while True:  # short waits: marimo's interrupt button raises KeyboardInterrupt in between
            try:
                panel.wait(0.1)
                return panel
            except TimeoutError:
                continue
    except KeyboardInterrupt:
        panel.stop()
        raise


def chat(
    model: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    protocol: str | None = None,
    region: str | None = None,
    dialect: str | None = None,
    enable_thinking: bool | None = None,
    thinking_budget: int | None = None,
    preserve_thinking: bool = False,
    effort: Effort | None = None,
    system: str | None = None,
    max_retries: int = 2,
    timeout: float | None = None,
    prompts: Sequence[str] | None = None,
) -> Any:
    """A marimo chat (``mo.ui.chat``) with a thinking model, kept in a :class:`~thinkbook.Conversation`.

    thinkbook's ChatPanel is built of ipywidgets, which marimo does not draw; marimo's own chat
    element is. Each reply streams its reasoning (as the chat's reasoning part, folded once the
    answer starts) and its answer. ``.conversation`` holds the turns with their reasoning, so
    ``preserve_thinking=True`` sends it back as in Jupyter. An error is said in the chat.
    """
    mo = _marimo()
    # Bad thinking options fail here, not at the first message.
    check_thinking_options(model, enable_thinking, thinking_budget, preserve_thinking or None)
    conversation = Conversation(
        model, base_url=base_url, api_key=api_key, protocol=protocol, region=region, dialect=dialect,
        enable_thinking=enable_thinking, thinking_budget=thinking_budget, preserve_thinking=preserve_thinking,
        effort=effort, system=system, display=False,
    )  # fmt: skip

    async def reply(messages: list[Any], config: Any = None) -> AsyncIterator[Any]:
        del config  # marimo's sampling settings; the thinking options are the conversation's
        _follow_history(conversation, messages[:-1])
        text = str(messages[-1].content)
        try:
            request = conversation.prepare_turn(text, max_retries=max_retries, timeout=timeout)
            reasoning: str | None = None
            result: ThinkResult | None = None
            async for event in aiter_events(request, max_retries=max_retries, timeout=timeout):
                match event:
                    case ReasoningDelta(delta) if delta:
                        if reasoning is None:
                            reasoning = f"reasoning_{uuid.uuid4().hex}"
                            yield {"type": "reasoning-start", "id": reasoning}
                        yield {"type": "reasoning-delta", "id": reasoning, "delta": delta}
                    case AnswerDelta(delta) if delta:
                        if reasoning is not None:
                            yield {"type": "reasoning-end", "id": reasoning}
                            reasoning = None
                        yield delta
                    case Done(final):
                        result = final
            if reasoning is not None:
                yield {"type": "reasoning-end", "id": reasoning}
            if result is not None:
                conversation.record_turn(text, result)
        except ThinkbookError as error:
            yield f"\n\n**thinkbook:** {_in_marimo_words(error)}"

    element = mo.ui.chat(reply, prompts=list(prompts) if prompts else None)
    element.conversation = conversation  # marimo UI elements take extra attributes
    return element


def _follow_history(conversation: Conversation, shown: Sequence[Any]) -> None:
    """Start the conversation over from what the chat shows when they disagree (a cleared chat)."""
    users = [m for m in shown if getattr(m, "role", None) == "user"]
    if len(users) == conversation.turns:
        return
    conversation.reset()
    for message in shown:
        role = getattr(message, "role", None)
        if role in ("user", "assistant"):
            conversation.messages.append({"role": role, "content": str(message.content)})


def _in_marimo_words(error: ThinkbookError) -> str:
    """An error for a marimo chat: its one line, without the advice meant for %%think users."""
    text = " ".join(str(error).split())
    text = text.replace(" / %%think --api-key-env NAME", "").replace(" (or %think recordings)", "")
    return text
