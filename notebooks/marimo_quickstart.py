import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import marimo as mo

    import thinkbook
    import thinkbook.marimo as tbm

    return mo, tbm, thinkbook


@app.cell
def _(mo):
    mo.md("""
    # thinkbook in marimo

    marimo has no `%%think` magic, but thinkbook's views are anywidgets, which marimo draws
    natively. `thinkbook.marimo.think(...)` takes the same options as `thinkbook.think(...)` and
    streams the reasoning and the answer into the running cell's output. With no
    `DASHSCOPE_API_KEY` set, questions that have a recording replay it (and say so).

    End the cell with an assignment, as below: a cell shows its last expression, which would
    replace the streamed view.
    """)
    return


@app.cell
def _(tbm):
    result = tbm.think("9.11 和 9.9 哪个大？", model="qwen-plus", enable_thinking=True)
    return (result,)


@app.cell
def _(mo, result):
    mo.md(f"""
    The result is a `ThinkResult`, as in Jupyter: `result.reasoning` holds
    {len(result.reasoning)} characters of reasoning ({result.usage.reasoning_tokens} tokens),
    `result.answer` {len(result.answer)} characters of answer.
    """)
    return


@app.cell
def _(mo):
    mo.md("""
    ## Two settings side by side

    `tbm.compare(prompt, configs)` runs a `ComparePanel`: the columns stream together and the
    summary row fills in as they finish. `tbm.show(x)` shows a `ThinkResult`, a view or a panel
    as a cell's value.
    """)
    return


@app.cell
def _(tbm):
    panel = tbm.compare(
        "你是谁", [{"model": "qwen-plus", "enable_thinking": True}, {"model": "qwen-plus", "thinking_budget": 50}]
    )
    return (panel,)


@app.cell
def _(mo, panel):
    mo.md(panel.to_markdown())
    return


@app.cell
def _(mo):
    mo.md("""
    ## A chat

    `tbm.chat(model, ...)` is marimo's chat element on a `thinkbook.Conversation`: each reply
    streams its reasoning (folded when the answer starts) and its answer; `chat.conversation`
    keeps the turns. Offline, try 你是谁 (thinking on replays a recording).
    """)
    return


@app.cell
def _(tbm):
    chat = tbm.chat("qwen-plus", enable_thinking=True, prompts=["你是谁"])
    chat  # noqa: B018 (a marimo cell shows its last expression)
    return (chat,)


@app.cell
def _(mo, thinkbook):
    mo.vstack([mo.md("What replays offline:"), thinkbook.recordings()])
    return


if __name__ == "__main__":
    app.run()
