import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import widget from "../thinkview.js";
import { COUNTERS0, fakeModel } from "./helpers.js";

// ---------------------------------------------------------------------------------------------
// Test doubles: an anywidget-like model and a synchronous frame scheduler.
// ---------------------------------------------------------------------------------------------

let frames = [];
const flush = () => {
  while (frames.length) frames.shift()();
};

function view(model) {
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = widget.render({ model, el });
  const q = (sel) => el.querySelector(sel);
  return {
    el,
    cleanup,
    q,
    reasoning: () => q(".tb-rtext")?.textContent ?? null,
    done: () => q(".tb-done").innerHTML,
    tail: () => q(".tb-tail").innerHTML,
    answerText: () => q(".tb-answer").textContent,
    details: () => q("details.tb-reason"),
    summary: () => q("details.tb-reason > summary")?.textContent ?? null,
    status: () => q(".tb-st").textContent,
    stop: () => q(".tb-stop"),
    counters: () => q(".tb-counters").textContent,
  };
}

beforeEach(() => {
  frames = [];
  globalThis.__TB_RAF__ = (cb) => frames.push(cb);
  document.body.innerHTML = "";
});
afterEach(() => {
  delete globalThis.__TB_RAF__;
  vi.useRealTimers();
  vi.restoreAllMocks();
});

// ---------------------------------------------------------------------------------------------
describe("deltas and snapshots", () => {
  it("appends deltas in order", () => {
    const m = fakeModel({ status: "thinking" });
    const v = view(m);
    m.msg({ t: "d", s: 1, r: "Let me " });
    m.msg({ t: "d", s: 2, r: "think." });
    m.msg({ t: "d", s: 3, st: "answering", b: ["<p>One</p>"], a: "<p>Tw</p>" });
    m.msg({ t: "d", s: 4, b: ["<p>Two</p>"], a: "<p>Thr</p>" });
    flush();
    expect(v.reasoning()).toBe("Let me think.");
    expect(v.done()).toBe("<p>One</p><p>Two</p>");
    expect(v.tail()).toBe("<p>Thr</p>");
    expect(v.status()).toBe("answering");
    m.msg({ t: "d", s: 5, a: "" });
    flush();
    expect(v.tail()).toBe("");
    expect(v.answerText()).toBe("OneTwo");
  });

  it("ignores duplicate and out-of-order deltas", () => {
    const m = fakeModel({ status: "thinking" });
    const v = view(m);
    m.msg({ t: "d", s: 1, r: "a" });
    m.msg({ t: "d", s: 1, r: "a" });
    m.msg({ t: "d", s: 2, r: "b" });
    m.msg({ t: "d", s: 0, r: "x" });
    m.msg({ t: "d", s: 2, r: "b" });
    m.msg({ t: "d", s: 1, r: "a" });
    m.msg({ t: "other", s: 3, r: "y" });
    m.msg(null);
    flush();
    expect(v.reasoning()).toBe("ab");
  });

  it("stops applying after a gap until a snapshot heals it", () => {
    const m = fakeModel({ status: "thinking" });
    const v = view(m);
    m.msg({ t: "d", s: 1, r: "A" });
    m.msg({ t: "d", s: 3, r: "C" }); // s=2 was dropped
    m.msg({ t: "d", s: 4, r: "D" });
    m.msg({ t: "d", s: 2, r: "B" }); // too late: already in gap mode
    flush();
    expect(v.reasoning()).toBe("A");
    m.set({ reasoning: "ABCD", seq: 4 });
    flush();
    expect(v.reasoning()).toBe("ABCD");
    m.msg({ t: "d", s: 5, r: "E" });
    flush();
    expect(v.reasoning()).toBe("ABCDE");
  });

  it("a gap is healed only by a snapshot with seq >= applied", () => {
    const m = fakeModel({ status: "thinking" });
    const v = view(m);
    m.msg({ t: "d", s: 1, r: "A" });
    m.msg({ t: "d", s: 2, r: "B" });
    m.msg({ t: "d", s: 4, r: "D" });
    m.set({ reasoning: "A", seq: 1 }); // older snapshot: ignored for text
    m.msg({ t: "d", s: 5, r: "E" });
    flush();
    expect(v.reasoning()).toBe("AB");
    m.set({ reasoning: "ABCDE", seq: 5 });
    m.msg({ t: "d", s: 6, r: "F" });
    flush();
    expect(v.reasoning()).toBe("ABCDEF");
  });

  it("a late view shows the snapshot and continues with newer deltas only", () => {
    const m = fakeModel({
      status: "answering",
      reasoning: "thought 1\nthought 2",
      answer_html: "<p>Hello</p><p>wor</p>",
      seq: 10,
    });
    const v = view(m);
    expect(v.reasoning()).toBe("thought 1\nthought 2");
    expect(v.done()).toBe("<p>Hello</p><p>wor</p>");
    expect(v.tail()).toBe("");
    m.msg({ t: "d", s: 9, b: ["<p>old</p>"] });
    m.msg({ t: "d", s: 10, b: ["<p>old</p>"] });
    m.msg({ t: "d", s: 11, b: ["<p>new</p>"] });
    flush();
    expect(v.answerText()).toBe("Hellowornew");
  });

  it("a snapshot older than the applied deltas keeps the text and status but updates other parts", () => {
    const m = fakeModel({ status: "thinking" });
    const v = view(m);
    m.msg({ t: "d", s: 1, r: "R" });
    m.msg({ t: "d", s: 2, st: "answering", b: ["<p>x</p>"] });
    m.set({ seq: 1, reasoning: "R", answer_html: "", status: "thinking", error: "boom", can_stop: false });
    flush();
    expect(v.reasoning()).toBe("R");
    expect(v.done()).toBe("<p>x</p>");
    expect(v.status()).toBe("answering");
    expect(v.q(".tb-err").textContent).toBe("boom");
    expect(v.stop().hidden).toBe(true);
    m.set({ seq: 2, status: "done", answer_html: "<p>x</p>", reasoning: "R" });
    flush();
    expect(v.status()).toBe("done");
  });

  it("a tail sent as kept-prefix plus new text rebuilds the same tail, across multi-unit characters", () => {
    const m = fakeModel({ status: "answering" });
    const v = view(m);
    m.msg({ t: "d", s: 1, a: "<p>思考 😀 a" });
    m.msg({ t: "d", s: 2, ak: "<p>思考 😀 a".length, a: "b</p>" });
    flush();
    expect(v.tail()).toBe("<p>思考 😀 ab</p>");
    m.msg({ t: "d", s: 3, b: ["<p>done</p>"], a: "<p>new" });
    m.msg({ t: "d", s: 4, ak: 3, a: "next</p>" });
    flush();
    expect(v.answerText()).toBe("donenext");
  });

  it("a view drawn afresh after a stop during thinking opens the fold on the partial reasoning", () => {
    const m = fakeModel({ status: "stopped", reasoning: "half a thought", seq: 3 });
    const v = view(m);
    flush();
    expect(v.details().open).toBe(true);
    const done = fakeModel({ status: "stopped", reasoning: "r", answer_html: "<p>a</p>", seq: 3 });
    const w = view(done);
    flush();
    expect(w.details().open).toBe(false);
  });

  it("estimate-only counters update the live token estimates", () => {
    const m = fakeModel({ status: "thinking", counters: { exact: false, estimate: { reasoning_tokens: 1 } } });
    const v = view(m);
    m.msg({ t: "d", s: 1, r: "abc", e: [1234, 0] });
    flush();
    expect(v.el.textContent).toContain("1,234");
  });

  it("a snapshot equal to the applied state does not rebuild the panes nor duplicate the tail", () => {
    const m = fakeModel({ status: "answering" });
    const v = view(m);
    m.msg({ t: "d", s: 1, b: ["<p>A</p>"], a: "<p>B</p>" });
    flush();
    const first = v.q(".tb-done").firstChild;
    m.set({ seq: 1, answer_html: "<p>A</p>", answer_tail: "<p>B</p>" });
    flush();
    expect(v.q(".tb-done").firstChild).toBe(first);
    m.msg({ t: "d", s: 2, a: "<p>Bee</p>" });
    flush();
    expect(v.answerText()).toBe("ABee");
  });

  it("a late view gets the finished blocks and the open tail apart", () => {
    const m = fakeModel({ status: "answering", answer_html: "<p>A</p>", answer_tail: "<p>B</p>", seq: 3 });
    const v = view(m);
    m.msg({ t: "d", s: 4, b: ["<p>Bee</p>"], a: "<p>C</p>" });
    m.set({ seq: 4, answer_html: "<p>A</p><p>Bee</p>", answer_tail: "<p>C</p>" });
    flush();
    expect(v.answerText()).toBe("ABeeC");
    m.msg({ t: "d", s: 5, a: "<p>Cee</p>" });
    flush();
    expect(v.answerText()).toBe("ABeeCee");
  });

  it("a late view replaces the snapshot's open tail when the next delta continues it", () => {
    const m = fakeModel({
      status: "answering", answer_html: "<p>Done para.</p>", answer_tail: "<p>Open para</p>", seq: 7,
    });
    const v = view(m);
    m.msg({ t: "d", s: 8, a: "<p>Open paragraph grows</p>" });
    flush();
    expect(v.answerText()).toBe("Done para.Open paragraph grows");
    m.msg({ t: "d", s: 9, b: ["<p>Open paragraph grows.</p>"], a: "<p>Next</p>" });
    flush();
    expect(v.answerText()).toBe("Done para.Open paragraph grows.Next");
  });

  it("a late view keeps the snapshot's last block when it was finished", () => {
    const code = '<div class="highlight"><pre>x = 1\n</pre></div>';
    const m = fakeModel({ status: "answering", answer_html: "<p>Intro</p>" + code, seq: 7 });
    const v = view(m);
    m.msg({ t: "d", s: 8, b: ["<p>After the code</p>"], a: "<p>More</p>" });
    flush();
    expect(v.el.querySelectorAll("pre").length).toBe(1);
    expect(v.answerText()).toBe("IntroCopyx = 1\nAfter the codeMore");
  });

  it("a late view never drops a last block without text (e.g. a rule)", () => {
    const m = fakeModel({ status: "answering", answer_html: "<p>a</p><hr>", seq: 1 });
    const v = view(m);
    m.msg({ t: "d", s: 2, b: ["<p>b</p>"] });
    flush();
    expect(v.q("hr")).not.toBeNull();
  });

  it("a late view replaces an open code block continued by the next delta", () => {
    const m = fakeModel({
      status: "answering", answer_html: "<p>Intro</p>", answer_tail: "<pre><code>a = 1\n</code></pre>", seq: 2,
    });
    const v = view(m);
    m.msg({ t: "d", s: 3, b: ["<pre><code>a = 1\nb = 2\n</code></pre>"], a: "" });
    flush();
    expect([...v.el.querySelectorAll("pre")].map((p) => p.textContent)).toEqual(["a = 1\nb = 2\n"]);
  });

  it("the final snapshot replaces the answer with its full render and clears the tail", () => {
    const m = fakeModel({ status: "answering" });
    const v = view(m);
    m.msg({ t: "d", s: 1, b: ["<p>A</p>"], a: "<p>B</p>" });
    flush();
    m.set({ status: "done", seq: 1, answer_html: "<h1>A</h1><p>B</p>", answer_markdown: "# A\nB", can_stop: false });
    flush();
    expect(v.done()).toBe("<h1>A</h1><p>B</p>");
    expect(v.tail()).toBe("");
  });
});

// ---------------------------------------------------------------------------------------------
describe("reasoning pane", () => {
  it("inserts reasoning as text nodes only", () => {
    const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    const m = fakeModel({ status: "thinking", reasoning: evil, seq: 1 });
    const v = view(m);
    m.msg({ t: "d", s: 2, r: "\n  " + evil + "\n" });
    flush();
    const box = v.q(".tb-rtext");
    expect(box.textContent).toBe(evil + "\n  " + evil + "\n");
    expect(v.el.querySelector("img")).toBeNull();
    expect(v.el.querySelector("script")).toBeNull();
    expect([...box.childNodes].every((n) => n.nodeType === Node.TEXT_NODE)).toBe(true);
    expect(globalThis.__pwned).toBeUndefined();
  });

  it("opens while thinking, folds when answering, and a user toggle wins", () => {
    const m = fakeModel({ status: "waiting" });
    const v = view(m);
    const other = view(m);
    m.msg({ t: "d", s: 1, st: "thinking", r: "hmm" });
    flush();
    expect(v.details().open).toBe(true);
    v.q("summary").click(); // user closes it while thinking
    expect(v.details().open).toBe(false);
    m.msg({ t: "d", s: 2, r: " more" });
    flush();
    expect(v.details().open).toBe(false);
    v.q("summary").click(); // ...and opens it again: from now on this view is the user's
    expect(v.details().open).toBe(true);
    m.msg({ t: "d", s: 3, st: "answering", a: "<p>x</p>" });
    flush();
    expect(v.details().open).toBe(true); // no auto-fold
    expect(other.details().open).toBe(false); // the other view folded itself
    m.msg({ t: "d", s: 4, a: "<p>xy</p>" });
    m.set({ status: "done", seq: 4, reasoning: "hmm more", answer_html: "<p>xy</p>" });
    flush();
    expect(v.details().open).toBe(true);
    // The other view of the same model was never touched: it followed the stream.
    expect(other.details().open).toBe(false);
  });

  it("folds itself on answering when the user did not touch it", () => {
    const m = fakeModel({ status: "thinking" });
    const v = view(m);
    expect(v.details().open).toBe(true);
    m.msg({ t: "d", s: 1, r: "x", st: "answering" });
    flush();
    expect(v.details().open).toBe(false);
  });

  it("shows a live header while thinking and a summary after", () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
    const m = fakeModel({ status: "waiting" });
    const v = view(m);
    m.msg({ t: "d", s: 1, st: "thinking", r: "..." });
    flush();
    expect(v.summary()).toBe("Thinking… 0.0s");
    vi.advanceTimersByTime(7200);
    flush();
    expect(v.summary()).toBe("Thinking… 7.2s");
    vi.advanceTimersByTime(800);
    m.msg({ t: "d", s: 2, st: "answering", c: { ...COUNTERS0, estimate: { reasoning_tokens: 1234, answer_tokens: 1 } } });
    flush();
    expect(v.summary()).toBe("Thought for 8.0s · ≈1,234 tokens");
    m.set({
      counters: {
        ...COUNTERS0,
        exact: true,
        usage: { prompt_tokens: 10, completion_tokens: 1300, total_tokens: 1310, reasoning_tokens: 1250, cached_tokens: 0, answer_tokens: 50 },
        timings: { ...COUNTERS0.timings, thinking_seconds: 12.34 },
      },
    });
    flush();
    expect(v.summary()).toBe("Thought for 12.3s · 1,250 tokens");
  });

  it("a view that first sees thinking late starts from counters.timings.elapsed", () => {
    vi.useFakeTimers();
    vi.setSystemTime(5_000_000);
    const m = fakeModel({
      status: "thinking",
      reasoning: "abc",
      seq: 3,
      counters: { ...COUNTERS0, timings: { ...COUNTERS0.timings, elapsed: 4.5 } },
    });
    const v = view(m);
    expect(v.summary()).toBe("Thinking… 4.5s");
    vi.advanceTimersByTime(1000);
    flush();
    expect(v.summary()).toBe("Thinking… 5.5s");
  });

  it("stays open with what was streamed when stopped while thinking", () => {
    const m = fakeModel({ status: "thinking" });
    const v = view(m);
    m.msg({ t: "d", s: 1, r: "half a thought" });
    m.set({ status: "stopped", seq: 1, reasoning: "half a thought", can_stop: false });
    flush();
    expect(v.details().open).toBe(true);
    expect(v.reasoning()).toBe("half a thought");
    expect(v.summary()).toMatch(/^Thought for \d+\.\ds$/);
    expect(v.status()).toBe("stopped");
  });

  it("a snapshot at the applied seq that moves answer text into the reasoning wins", () => {
    const m = fakeModel({ status: "answering" });
    const v = view(m);
    m.msg({ t: "d", s: 1, a: "<p>I think</p>" });
    flush();
    expect(v.q("details")).toBeNull();
    m.set({ seq: 1, reasoning: "I think", answer_html: "", status: "answering" });
    flush();
    expect(v.reasoning()).toBe("I think");
    expect(v.answerText()).toBe("");
    m.msg({ t: "d", s: 2, a: "<p>Answer</p>" });
    flush();
    expect(v.answerText()).toBe("Answer");
  });

  it("has no reasoning pane when done without reasoning", () => {
    const m = fakeModel({ status: "answering", header: { model: "m", thinking: null, budget: null, lang: "en", replay: null } });
    const v = view(m);
    m.msg({ t: "d", s: 1, b: ["<p>hi</p>"] });
    m.set({ status: "done", seq: 1, answer_html: "<p>hi</p>" });
    flush();
    expect(v.q("details")).toBeNull();
    expect(v.q(".tb-rtext")).toBeNull();
  });

  it("has no reasoning pane when thinking is off", () => {
    const m = fakeModel({ status: "waiting", header: { model: "m", thinking: false, budget: null, lang: "en", replay: null } });
    const v = view(m);
    expect(v.q("details")).toBeNull();
    m.msg({ t: "d", s: 1, st: "answering", a: "<p>hi</p>" });
    flush();
    expect(v.q("details")).toBeNull();
    expect(v.q(".tb-think").textContent).toBe("thinking off");
  });

  it("keeps the reasoning scrolled to the bottom unless the user scrolled up", () => {
    const m = fakeModel({ status: "thinking" });
    const v = view(m);
    const box = v.q(".tb-rtext");
    let height = 1000;
    Object.defineProperty(box, "scrollHeight", { get: () => height });
    Object.defineProperty(box, "clientHeight", { get: () => 200 });
    m.msg({ t: "d", s: 1, r: "line\n" });
    flush();
    expect(box.scrollTop).toBe(1000);
    box.scrollTop = 100; // the user scrolls up
    box.dispatchEvent(new Event("scroll"));
    height = 1200;
    m.msg({ t: "d", s: 2, r: "line\n" });
    flush();
    expect(box.scrollTop).toBe(100);
    box.scrollTop = 1000; // back to the bottom
    box.dispatchEvent(new Event("scroll"));
    height = 1400;
    m.msg({ t: "d", s: 3, r: "line\n" });
    flush();
    expect(box.scrollTop).toBe(1400);
  });
});

// ---------------------------------------------------------------------------------------------
describe("status line and stop button", () => {
  it("shows the stop button only while streaming with can_stop, and sends stop once", () => {
    const m = fakeModel({ status: "waiting", can_stop: false });
    const v = view(m);
    expect(v.stop().hidden).toBe(true);
    m.set({ can_stop: true });
    flush();
    expect(v.stop().hidden).toBe(false);
    m.msg({ t: "d", s: 1, st: "thinking" });
    flush();
    expect(v.stop().hidden).toBe(false);
    v.stop().click();
    v.stop().click();
    expect(m.sent).toEqual([{ t: "stop" }]);
    expect(v.stop().disabled).toBe(true);
    flush();
    expect(v.stop().disabled).toBe(true);
    m.set({ status: "stopped", can_stop: true });
    flush();
    expect(v.stop().hidden).toBe(true);
    expect(v.status()).toBe("stopped");
  });

  it("shows model, thinking budget, replay badge and the error while keeping streamed text", () => {
    const m = fakeModel({
      status: "thinking",
      header: { model: "qwen-plus", thinking: true, budget: 2000, lang: "en", replay: "recordings/你是谁.jsonl" },
    });
    const v = view(m);
    expect(v.q(".tb-model").textContent).toBe("qwen-plus");
    expect(v.q(".tb-think").textContent).toBe("thinking on · budget 2,000");
    const badge = v.q(".tb-replay");
    expect(badge.hidden).toBe(false);
    expect(badge.textContent).toBe("replaying a recorded answer");
    expect(badge.title).toBe("recordings/你是谁.jsonl");
    m.msg({ t: "d", s: 1, r: "partial thought", st: "answering", a: "<p>partial</p>" });
    m.set({ status: "error", error: "StreamInterruptedError: server closed the stream", can_stop: false });
    flush();
    expect(v.status()).toBe("error");
    expect(v.q(".tb-st").className).toContain("tb-st-error");
    expect(v.q(".tb-err").textContent).toBe("StreamInterruptedError: server closed the stream");
    expect(v.reasoning()).toBe("partial thought");
    expect(v.answerText()).toBe("partial");
  });

  it("says so when the replayed recording is illustrative, not model output", () => {
    const replay = "replay:illustrative:nb02-qwen-plus-decimal-on.jsonl";
    const v = view(fakeModel({ header: { model: "m", thinking: true, budget: null, lang: "en", replay } }));
    expect(v.q(".tb-replay").textContent).toBe("replaying an illustrative recording (not model output)");
    const zh = view(fakeModel({ header: { model: "m", thinking: true, budget: null, lang: "zh", replay } }));
    expect(zh.q(".tb-replay").textContent).toBe("正在回放示例录制（非模型输出）");
  });

  it("hides the replay badge when replay is null or empty", () => {
    const v = view(fakeModel({ header: { model: "m", thinking: null, budget: null, lang: "en", replay: "" } }));
    expect(v.q(".tb-replay").hidden).toBe(true);
    expect(v.status()).toBe("waiting…");
  });

  it("uses Chinese labels when header.lang is zh", () => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    const m = fakeModel({
      status: "waiting",
      header: { model: "qwen-plus", thinking: true, budget: 50, lang: "zh", replay: "x.jsonl" },
    });
    const v = view(m);
    expect(v.status()).toBe("等待中…");
    expect(v.q(".tb-think").textContent).toBe("思考：开 · 预算 50");
    expect(v.q(".tb-replay").textContent).toBe("正在回放录制的回答");
    expect(v.stop().textContent).toBe("停止");
    m.msg({ t: "d", s: 1, st: "thinking", r: "嗯" });
    flush();
    expect(v.summary()).toBe("思考中… 0.0s");
    expect(v.status()).toBe("思考中");
    m.msg({ t: "d", s: 2, st: "answering", b: ["<pre><code>x</code></pre>"], c: { ...COUNTERS0, estimate: { reasoning_tokens: 12, answer_tokens: 3 } } });
    m.set({ status: "done", seq: 2, reasoning: "嗯", answer_html: "<pre><code>x</code></pre>", answer_markdown: "    x" });
    flush();
    expect(v.summary()).toMatch(/^已思考 0\.0s · ≈12 tokens$/);
    expect(v.status()).toBe("已完成");
    expect(v.counters()).toMatch(/^Token 消耗: 思考 ≈12 · 回复 ≈3 · 总计 ≈15/);
    expect(v.q(".tb-cp").textContent).toBe("复制");
    expect(v.q(".tb-foot .tb-btn").textContent).toBe("复制回复");
    expect(v.details().getAttribute("aria-label")).toBe("思考过程");
    expect(v.q(".tb-answer").getAttribute("aria-label")).toBe("完整回复");
  });
});

// ---------------------------------------------------------------------------------------------
describe("counters", () => {
  it("marks live estimates with ≈ and uses thousands separators", () => {
    const m = fakeModel({ status: "thinking" });
    const v = view(m);
    m.msg({
      t: "d",
      s: 1,
      c: {
        ...COUNTERS0,
        usage: { prompt_tokens: 1234, completion_tokens: null, total_tokens: null, reasoning_tokens: null, cached_tokens: null, answer_tokens: null },
        estimate: { reasoning_tokens: 12345, answer_tokens: 678 },
        timings: { ...COUNTERS0.timings, time_to_first_token: 0.812 },
      },
    });
    flush();
    // Thinking since this view saw the status: the footer shows the fold's clock (one clock).
    expect(v.counters()).toBe("Tokens: input ≈1,234 · reasoning ≈12,345 · answer ≈678 · total ≈14,257 · first token 0.8s · thinking 0.0s");
  });

  it("shows exact numbers, timings and cost when counters.exact", () => {
    const m = fakeModel({ status: "answering" });
    const v = view(m);
    m.set({
      status: "done",
      counters: {
        exact: true,
        usage: { prompt_tokens: 21, completion_tokens: 1500, total_tokens: 1521, reasoning_tokens: 1234, cached_tokens: 1024, answer_tokens: 266 },
        estimate: { reasoning_tokens: 1200, answer_tokens: 250 },
        timings: { time_to_first_token: 0.45, thinking_seconds: 12.3, total_seconds: 20, tokens_per_second: 75.04, elapsed: 20 },
        cost: { amount: 0.0123, currency: "CNY" },
      },
    });
    flush();
    expect(v.counters()).toBe(
      "Tokens: input 21 · cached 1,024 · reasoning 1,234 · answer 266 · total 1,521 · " +
        "first token 0.5s · thinking 12.3s · 75.0 tok/s · cost ¥0.0123",
    );
    expect(v.counters()).not.toContain("≈");
  });

  it("formats dollar costs and falls back to estimates for fields the server did not report", () => {
    const m = fakeModel({
      status: "done",
      counters: {
        exact: true,
        usage: { prompt_tokens: 5, completion_tokens: 40, total_tokens: 45, reasoning_tokens: null, cached_tokens: 0, answer_tokens: 40 },
        estimate: { reasoning_tokens: 30, answer_tokens: 10 },
        timings: COUNTERS0.timings,
        cost: { amount: 0.0012, currency: "USD" },
      },
    });
    const v = view(m);
    expect(v.counters()).toBe("Tokens: input 5 · reasoning ≈30 · answer 40 · total 45 · cost $0.0012");
  });
});

// ---------------------------------------------------------------------------------------------
describe("copy buttons", () => {
  it("adds a copy button to each code block and copies its text", async () => {
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const m = fakeModel({ status: "answering" });
    const v = view(m);
    m.msg({
      t: "d",
      s: 1,
      b: ['<div class="highlight"><pre><span class="k">import</span> os\n</pre></div>', "<p>and</p>"],
      a: "<pre><code>print(1)</code></pre>",
    });
    flush();
    const buttons = v.el.querySelectorAll(".tb-cp");
    expect(buttons.length).toBe(2);
    expect(buttons[0].textContent).toBe("Copy");
    buttons[0].click();
    buttons[1].click();
    expect(writeText.mock.calls).toEqual([["import os\n"], ["print(1)"]]);
    await Promise.resolve();
    expect(buttons[0].textContent).toBe("Copied");
    // A later paint of new blocks does not add a second button to old ones.
    m.msg({ t: "d", s: 2, b: ["<pre>x</pre>"], a: "" });
    flush();
    expect(v.el.querySelectorAll(".tb-cp").length).toBe(2);
    expect(v.el.querySelectorAll(".tb-done .tb-cp").length).toBe(2);
    delete navigator.clipboard;
  });

  it("enables Copy answer only once answer_markdown is set, with an execCommand fallback", () => {
    Object.defineProperty(navigator, "clipboard", { value: undefined, configurable: true });
    document.execCommand = vi.fn(() => true);
    const m = fakeModel({ status: "answering" });
    const v = view(m);
    const btn = v.q(".tb-foot .tb-btn");
    expect(btn.textContent).toBe("Copy answer");
    expect(btn.disabled).toBe(true);
    m.set({ status: "done", answer_markdown: "**bold** answer", answer_html: "<p><strong>bold</strong> answer</p>" });
    flush();
    expect(btn.disabled).toBe(false);
    btn.click();
    expect(document.execCommand).toHaveBeenCalledWith("copy");
    expect(btn.textContent).toBe("Copied");
    expect(document.querySelector("textarea")).toBeNull();
    delete navigator.clipboard;
    delete document.execCommand;
  });
});

// ---------------------------------------------------------------------------------------------
describe("lifecycle and painting", () => {
  it("cleanup removes every listener; later events do nothing", () => {
    vi.useFakeTimers();
    const m = fakeModel({ status: "thinking" });
    const v = view(m);
    expect(m.listenerCount()).toBeGreaterThan(0);
    const root = v.q(".tb-view");
    m.msg({ t: "d", s: 1, r: "x" });
    v.cleanup();
    expect(m.listenerCount()).toBe(0);
    flush(); // a frame queued before cleanup paints nothing
    m.msg({ t: "d", s: 2, r: "y" });
    m.set({ status: "done", seq: 2, reasoning: "xy" });
    vi.advanceTimersByTime(1000);
    flush();
    expect(frames.length).toBe(0);
    expect(root.querySelector(".tb-rtext").textContent).toBe("");
    expect(v.el.querySelector(".tb-view")).toBeNull();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("coalesces many messages into one paint per frame", () => {
    const m = fakeModel({ status: "thinking" });
    const v = view(m);
    const box = v.q(".tb-rtext");
    const nodesBefore = box.childNodes.length;
    for (let i = 1; i <= 200; i++) m.msg({ t: "d", s: i, r: i + " ", a: `<p>${i}</p>`, b: i % 50 ? undefined : [`<p>b${i}</p>`] });
    m.set({ error: "" });
    expect(frames.length).toBe(1);
    expect(box.textContent).toBe(""); // nothing painted before the frame
    flush();
    expect(box.childNodes.length).toBe(nodesBefore + 1); // one text node for the whole frame
    expect(box.textContent.split(" ").length).toBe(201);
    expect(v.tail()).toBe("<p>200</p>");
    expect(v.done()).toBe("<p>b50</p><p>b100</p><p>b150</p><p>b200</p>");
    m.msg({ t: "d", s: 201, r: "z" });
    expect(frames.length).toBe(1);
  });

  it("several views of one model render independently", () => {
    const m = fakeModel({ status: "thinking" });
    const a = view(m);
    m.msg({ t: "d", s: 1, r: "one " });
    m.set({ seq: 1, reasoning: "one " });
    const b = view(m);
    m.msg({ t: "d", s: 2, r: "two" });
    flush();
    expect(a.reasoning()).toBe("one two");
    expect(b.reasoning()).toBe("one two");
    a.cleanup();
    m.msg({ t: "d", s: 3, r: "!" });
    flush();
    expect(b.reasoning()).toBe("one two!");
  });
});

// ---------------------------------------------------------------------------------------------
describe("one clock for the fold and the footer (issue 11.9)", () => {
  it("the footer's thinking time is the fold header's while thinking, and the kernel's after", () => {
    vi.useFakeTimers();
    vi.setSystemTime(2_000_000);
    const m = fakeModel({ status: "waiting" });
    const v = view(m);
    // The kernel's counters ride with the status change: its thinking time is 0.0 at that moment.
    m.msg({ t: "d", s: 1, st: "thinking", r: "hmm", c: { ...COUNTERS0, timings: { ...COUNTERS0.timings, thinking_seconds: 0 } } });
    flush();
    vi.advanceTimersByTime(1400);
    flush();
    expect(v.summary()).toBe("Thinking… 1.4s");
    expect(v.counters()).toContain("thinking 1.4s");
    expect(v.counters()).not.toContain("thinking 0.0s");
    m.msg({ t: "d", s: 2, st: "answering", c: { ...COUNTERS0, timings: { ...COUNTERS0.timings, thinking_seconds: 1.52 } } });
    flush();
    expect(v.summary()).toBe("Thought for 1.5s");
    expect(v.counters()).toContain("thinking 1.5s");
  });

  it("a replay's clock runs at the recording's pace and says so", () => {
    vi.useFakeTimers();
    vi.setSystemTime(3_000_000);
    const header = { model: "qwen-plus", thinking: true, lang: "en", replay: "replay:x.jsonl", pace: 4 };
    const m = fakeModel({ status: "waiting", header });
    const v = view(m);
    m.msg({ t: "d", s: 1, st: "thinking", r: "hmm" });
    flush();
    vi.advanceTimersByTime(500);
    flush();
    expect(v.summary()).toBe("Thinking… 2.0s"); // 0.5 s at 4x is 2 s of the recording
    expect(v.counters()).toContain("thinking 2.0s");
    expect(v.counters()).toContain("timings as recorded");
  });

  it("a replay without pauses shows no times", () => {
    vi.useFakeTimers();
    const header = { model: "qwen-plus", thinking: true, lang: "en", replay: "replay:x.jsonl", pace: 0 };
    const m = fakeModel({ status: "waiting", header });
    const v = view(m);
    m.msg({ t: "d", s: 1, st: "thinking", r: "hmm" });
    vi.advanceTimersByTime(500);
    flush();
    expect(v.summary()).toBe("Thinking…");
    expect(v.counters()).not.toMatch(/thinking \d/);
    expect(v.counters()).toContain("replayed without pauses: no timings");
  });
});

describe("hidden reasoning (issue 12.4)", () => {
  it("says the provider did not show the reasoning instead of an empty pane", () => {
    const m = fakeModel({ status: "answering" });
    const v = view(m);
    m.set({
      status: "done",
      answer_html: "<p>42</p>",
      answer_markdown: "42",
      counters: {
        ...COUNTERS0,
        exact: true,
        reasoning_hidden: true,
        usage: { prompt_tokens: 5, completion_tokens: 1850, total_tokens: 1855, reasoning_tokens: 1840, cached_tokens: 0, answer_tokens: 10 },
        timings: { ...COUNTERS0.timings, thinking_seconds: 4.2 },
      },
    });
    flush();
    expect(v.details()).toBeNull();
    expect(v.q(".tb-hidden").textContent).toBe("Thought for 4.2s · 1,840 tokens (not shown by the provider)");
  });
});

describe("finished (static) views get copy buttons while the module is loaded", () => {
  it("wires code blocks and Copy answer of static views that queued themselves", () => {
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const box = document.createElement("div");
    box.innerHTML =
      '<div class="tb-view tb-static" lang="zh"><div class="tb-answer"><pre>x = 1</pre></div>' +
      '<div class="tb-foot"><small>Tokens</small></div>' +
      '<script type="application/json" class="tb-md">"**md** \\u003cb>"</script><script></script></div>';
    document.body.append(box);
    const script = box.querySelectorAll("script")[1];
    globalThis.__tbq.push(script); // what the output's one-line script does
    globalThis.__tbq.push(script); // twice (a re-render): still one set of buttons
    const code = box.querySelectorAll(".tb-cp");
    expect(code.length).toBe(1);
    expect(code[0].textContent).toBe("复制");
    code[0].click();
    const all = box.querySelector(".tb-foot .tb-btn");
    expect(all.textContent).toBe("复制回复");
    all.click();
    expect(writeText.mock.calls).toEqual([["x = 1"], ["**md** <b>"]]);
    delete navigator.clipboard;
  });

  it("ignores scripts that are not in a static view", () => {
    const box = document.createElement("div");
    box.innerHTML = "<div><pre>y</pre><script></script></div>";
    document.body.append(box);
    globalThis.__tbq.push(box.querySelector("script"));
    expect(box.querySelector(".tb-cp")).toBeNull();
  });
});
