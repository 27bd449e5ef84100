import { afterEach, describe, expect, it, vi } from "vitest";
import chat, { follow, totalsText, wireSettled } from "../chatpanel.js";
import compare, { cellText } from "../comparepanel.js";
import thinkview from "../thinkview.js";

// An anywidget-like model: get/set/save_changes/send/on/off, and msg() to deliver kernel messages.
function fakeModel(traits) {
  const state = { ...traits }, listeners = new Map();
  const model = {
    sent: [],
    saved: 0,
    get: (k) => state[k],
    set(k, v) {
      state[k] = v;
      for (const cb of [...(listeners.get("change:" + k) || [])]) cb();
    },
    save_changes() {
      model.saved++;
    },
    on(n, cb) {
      if (!listeners.has(n)) listeners.set(n, new Set());
      listeners.get(n).add(cb);
    },
    off(n, cb) {
      listeners.get(n)?.delete(cb);
    },
    send(c) {
      model.sent.push(c);
    },
    msg(c) {
      for (const cb of [...(listeners.get("msg:custom") || [])]) cb(c, []);
    },
    listenerCount: () => [...listeners.values()].reduce((n, s) => n + s.size, 0),
  };
  return model;
}

const CHOICES = [
  { name: "qwen-plus", family: "Qwen3", mode: "hybrid", default_thinking: false, budget: true, preserve: false },
  { name: "qwen3.6-plus", family: "Qwen3.6", mode: "hybrid", default_thinking: true, budget: true, preserve: true },
  { name: "deepseek-r1", family: "DeepSeek", mode: "thinking-only", default_thinking: true, budget: false, preserve: false },
];
const CAPS = {
  "qwen-plus": { known: true, mode: "hybrid", default_thinking: false, thinking_locked: false, budget: true, preserve: false },
  "deepseek-r1": { known: true, mode: "thinking-only", default_thinking: true, thinking_locked: true, budget: false, preserve: false },
  "my-model": { known: false, mode: null, default_thinking: null, thinking_locked: false, budget: true, preserve: true },
};

function chatModel(extra = {}) {
  return fakeModel({
    lang: "en", choices: CHOICES, regions: ["beijing", "singapore"], model: "qwen-plus", caps: CAPS["qwen-plus"],
    enable_thinking: null, thinking_budget: null, budget_max: 38912, preserve_thinking: false, system: "",
    region: "", base_url: "", busy: false, turns: 0, totals: { turns: 0 }, notice: "", ...extra,
  });
}
const q = (el, name) => el.querySelector(`[data-tb="${name}"]`);

afterEach(() => (document.body.innerHTML = ""));

describe("ChatPanel controls", () => {
  it("groups the catalog by family with the thinking mode and offers a free-text model", () => {
    const el = document.createElement("div"), model = chatModel();
    chat.render({ model, el });
    const groups = [...q(el, "model").querySelectorAll("optgroup")].map((g) => g.label);
    expect(groups).toEqual(["Qwen3", "Qwen3.6", "DeepSeek"]);
    expect(q(el, "model").textContent).toContain("deepseek-r1 (thinking-only)");
    expect(q(el, "model").value).toBe("qwen-plus");
    expect(q(el, "other").hidden).toBe(true);
    model.set("model", "my-model");
    model.set("caps", CAPS["my-model"]);
    expect(q(el, "model").value).toBe("__other__");
    expect(q(el, "other").hidden).toBe(false);
    expect(q(el, "other").value).toBe("my-model");
    q(el, "other").value = "llama3";
    q(el, "other").dispatchEvent(new Event("change"));
    expect(model.get("model")).toBe("llama3");
    expect(model.saved).toBe(1);
  });

  it("every control has a label and a focusable, ordered place", () => {
    const el = document.createElement("div");
    document.body.append(el);
    chat.render({ model: chatModel(), el });
    for (const c of el.querySelectorAll("select, input:not(.tb-other), textarea")) {
      const label = el.querySelector(`label[for="${c.id}"]`);
      expect(label?.textContent, c.dataset.tb).toBeTruthy();
    }
    expect(q(el, "other").getAttribute("aria-label")).toBeTruthy();
    expect([...el.querySelectorAll("[tabindex]")].filter((e) => e.tabIndex > 0)).toEqual([]); // DOM order = focus order
    expect(q(el, "notice").getAttribute("role")).toBe("status");
  });

  it("locks thinking on for thinking-only models, with a tooltip; hybrids show their default", () => {
    const el = document.createElement("div"), model = chatModel();
    chat.render({ model, el });
    const think = q(el, "thinking");
    expect(think.disabled).toBe(false);
    expect(think.checked).toBe(false); // qwen-plus does not think by default
    expect(think.title).toContain("default for this model: off");
    model.set("caps", CAPS["deepseek-r1"]);
    expect(think.disabled).toBe(true);
    expect(think.checked).toBe(true);
    expect(think.title).toContain("thinking-only");
  });

  it("shows the budget slider only where it applies and sends null for the default", () => {
    const el = document.createElement("div"), model = chatModel({ enable_thinking: true });
    chat.render({ model, el });
    const budget = q(el, "budget");
    expect(budget.closest(".tb-field").hidden).toBe(false);
    budget.value = "2048";
    budget.dispatchEvent(new Event("change"));
    expect(model.get("thinking_budget")).toBe(2048);
    budget.value = "0";
    budget.dispatchEvent(new Event("change"));
    expect(model.get("thinking_budget")).toBe(null);
    model.set("caps", CAPS["deepseek-r1"]);
    expect(budget.closest(".tb-field").hidden).toBe(true);
    expect(q(el, "preserve").closest(".tb-field").hidden).toBe(true);
    model.set("enable_thinking", false);
    model.set("caps", CAPS["qwen-plus"]);
    expect(budget.disabled).toBe(true); // thinking off: no budget
  });

  it("offers an effort dropdown (default/low/medium/high) next to the budget, null for the default", () => {
    const el = document.createElement("div"), model = chatModel({ enable_thinking: true, caps: { ...CAPS["qwen-plus"], effort: true } });
    chat.render({ model, el });
    const effort = q(el, "effort");
    expect([...effort.options].map((o) => [o.value, o.textContent])).toEqual([
      ["", "default"], ["low", "low"], ["medium", "medium"], ["high", "high"],
    ]);
    expect(effort.closest(".tb-field").previousElementSibling).toBe(q(el, "budget").closest(".tb-field"));
    expect(el.querySelector(`label[for="${effort.id}"]`).textContent).toBe("Effort");
    effort.value = "high";
    effort.dispatchEvent(new Event("change"));
    expect(model.get("effort")).toBe("high");
    model.set("effort", null); // the kernel cleared it (a budget was chosen): the dropdown follows
    expect(effort.value).toBe("");
    effort.value = "";
    effort.dispatchEvent(new Event("change"));
    expect(model.get("effort")).toBe(null);
    model.set("enable_thinking", false);
    expect(effort.disabled).toBe(true); // thinking off: no effort
    model.set("caps", { ...CAPS["deepseek-r1"], effort: false });
    expect(effort.closest(".tb-field").hidden).toBe(true);
  });

  it("hands each finished (static) turn of the chat log to the view module once, for its Copy buttons", () => {
    const log = document.createElement("div");
    log.innerHTML = '<div class="tb-settled"><div class="tb-view tb-static"><div class="tb-answer">hi</div>' +
      '<script type="application/json" class="tb-md">"**hi**"</script><script>queue()</script></div></div>';
    const pushed = [], saved = globalThis.__tbq;
    globalThis.__tbq = { __tb: 1, push: (s) => (pushed.push(s), (s.parentNode.__tb = 1)) };
    try {
      wireSettled(log);
      wireSettled(log); // (a later mutation: already wired)
    } finally {
      globalThis.__tbq = saved;
    }
    expect(pushed.length).toBe(1);
    expect(pushed[0].type).toBe("");
    expect(pushed[0].parentNode.classList.contains("tb-static")).toBe(true);
  });

  it("Enter sends, Shift+Enter does not; Send becomes Stop while streaming", () => {
    const el = document.createElement("div"), model = chatModel();
    chat.render({ model, el });
    const prompt = q(el, "prompt"), send = q(el, "send");
    prompt.value = "hello";
    const shift = new KeyboardEvent("keydown", { key: "Enter", shiftKey: true, cancelable: true });
    prompt.dispatchEvent(shift);
    expect(model.sent).toEqual([]);
    expect(shift.defaultPrevented).toBe(false);
    const enter = new KeyboardEvent("keydown", { key: "Enter", cancelable: true });
    prompt.dispatchEvent(enter);
    expect(enter.defaultPrevented).toBe(true);
    expect(model.sent).toEqual([{ t: "send", text: "hello" }]);
    expect(prompt.value).toBe("");
    prompt.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", cancelable: true })); // empty: nothing
    expect(model.sent.length).toBe(1);
    expect(send.textContent).toBe("Send");
    model.set("busy", true);
    expect(send.textContent).toBe("Stop");
    expect(send.getAttribute("aria-label")).toBe("Stop");
    send.click();
    expect(model.sent.at(-1)).toEqual({ t: "stop" });
    q(el, "clear").click();
    expect(model.sent.at(-1)).toEqual({ t: "clear" });
  });

  it("exports by asking the kernel and downloading its answer", () => {
    const el = document.createElement("div"), model = chatModel();
    URL.createObjectURL = vi.fn(() => "blob:x");
    URL.revokeObjectURL = vi.fn();
    const clicks = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => {});
    chat.render({ model, el });
    q(el, "export-json").click();
    expect(model.sent.at(-1)).toEqual({ t: "export", format: "json" });
    model.msg({ t: "export", format: "json", filename: "chat.json", text: "{}" });
    expect(clicks).toHaveBeenCalledTimes(1);
    expect(URL.createObjectURL).toHaveBeenCalledTimes(1);
    clicks.mockRestore();
  });

  it("shows notices and session totals as text", () => {
    const el = document.createElement("div"), model = chatModel();
    chat.render({ model, el });
    expect(q(el, "notice").hidden).toBe(true);
    model.set("notice", "deepseek-r1 always thinks <b>");
    expect(q(el, "notice").textContent).toBe("deepseek-r1 always thinks <b>");
    expect(q(el, "notice").querySelector("b")).toBe(null);
    model.set("totals", { turns: 2, prompt_tokens: 1200, reasoning_tokens: 30, total_tokens: 1300, cost: { CNY: 0.0123 }, unpriced: 0 });
    expect(q(el, "totals").textContent).toBe("Session: 2 turns · input 1,200 · reasoning 30 · total 1,300 · cost 0.0123 CNY");
    expect(totalsText({ turns: 0 }, { totals: "S", turn: "t1", turns: "t" })).toBe("S: 0 t");
    model.set("totals", { turns: 1, total_tokens: 40 });
    expect(q(el, "totals").textContent).toBe("Session: 1 turn · total 40"); // not "1 turns"
    const zh = document.createElement("div");
    chat.render({ model: chatModel({ lang: "zh", totals: { turns: 1 } }), el: zh });
    expect(q(zh, "totals").textContent).toBe("本次会话: 1 轮");
  });

  it("puts a message the kernel could not send back into the prompt box, unless a new one is typed", () => {
    const el = document.createElement("div"), model = chatModel();
    chat.render({ model, el });
    const prompt = q(el, "prompt");
    prompt.value = "你是谁";
    prompt.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", cancelable: true }));
    expect(prompt.value).toBe("");
    model.msg({ t: "unsent", text: "你是谁" });
    expect(prompt.value).toBe("你是谁");
    prompt.value = "something else";
    model.msg({ t: "unsent", text: "older" });
    expect(prompt.value).toBe("something else");
  });

  it("cleans up its listeners", () => {
    const el = document.createElement("div"), model = chatModel();
    const dispose = chat.render({ model, el });
    expect(model.listenerCount()).toBeGreaterThan(0);
    dispose();
    expect(model.listenerCount()).toBe(0);
    expect(el.children.length).toBe(0);
  });
});

const ROWS = [
  { label: "qwen-plus", status: "done", error: "", time_to_first_token: 0.5, thinking_seconds: 1.25, reasoning_tokens: 1200,
    answer_tokens: 300, total_seconds: 3.0, cost: 0.001, currency: "CNY", answer_chars: 420 },
  { label: "qwen3.6-plus <img src=x onerror=alert(1)>", status: "done", error: "", time_to_first_token: 0.4,
    thinking_seconds: 2, reasoning_tokens: 2000, answer_tokens: 500, total_seconds: 4.5, cost: 0.01, currency: "CNY",
    answer_chars: 900 },
  { label: "qwen-flash", status: "error", error: "AuthenticationError: 401 Incorrect API key", time_to_first_token: null,
    thinking_seconds: null, reasoning_tokens: null, answer_tokens: null, total_seconds: null, cost: null, currency: null,
    answer_chars: null },
];

describe("ComparePanel summary", () => {
  it("waits, then draws an accessible table with fastest and cheapest marked by text", () => {
    const el = document.createElement("div");
    const model = fakeModel({ lang: "en", rows: ROWS, finished: false, fastest: -1, cheapest: -1, markdown: "" });
    compare.render({ model, el });
    expect(el.querySelector("table")).toBe(null);
    expect(el.textContent).toContain("Waiting");
    expect(el.querySelector('[data-tb="waiting"]')).not.toBe(null);
    model.set("fastest", 0);
    model.set("cheapest", 0);
    model.set("markdown", "| x |");
    model.set("finished", true);
    const table = el.querySelector("table");
    expect(table.querySelector("caption").textContent).toBe("Comparison");
    expect([...table.querySelectorAll("thead th")].every((th) => th.scope === "col")).toBe(true);
    const rows = table.querySelectorAll("tbody tr");
    expect(rows.length).toBe(3);
    expect(rows[0].querySelector("th").scope).toBe("row");
    const best = [...rows[0].querySelectorAll(".tb-best")].map((c) => c.textContent);
    expect(best).toEqual(["3.00sfastest", "0.0010 CNYcheapest"]);
    expect(rows[1].querySelectorAll(".tb-best").length).toBe(0);
    // Hooks for the browser tests.
    expect(table.dataset.tb).toBe("summary");
    expect([...rows].map((r) => [r.dataset.tb, r.dataset.status])).toEqual([["row", "done"], ["row", "done"],
      ["row", "error"]]);
    expect(rows[0].querySelector('[data-tb="fastest"]').textContent).toBe("fastest");
    expect(rows[0].querySelector('[data-tb="cheapest"]').textContent).toBe("cheapest");
    expect(el.querySelector("img")).toBe(null); // labels are text
    expect(rows[1].textContent).toContain("<img src=x");
    expect(rows[2].className).toBe("tb-row-error");
    expect(rows[2].textContent).toContain("error: AuthenticationError: 401");
    expect(rows[0].textContent).toContain("1,200");
  });

  it("formats cells", () => {
    const T = { done: "done" };
    expect(cellText(ROWS[0], "thinking_seconds", T)).toBe("1.25s");
    expect(cellText(ROWS[0], "answer_chars", T)).toBe("420");
    expect(cellText(ROWS[2], "cost", T)).toBe("—");
    expect(cellText(ROWS[0], "status", T)).toBe("done");
  });

  it("copies the markdown table", async () => {
    const el = document.createElement("div");
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const model = fakeModel({ lang: "zh", rows: ROWS, finished: true, fastest: 0, cheapest: 0, markdown: "| md |" });
    compare.render({ model, el });
    expect(el.querySelector("caption").textContent).toBe("对比结果");
    el.querySelector('[data-tb="copy"]').click();
    expect(writeText).toHaveBeenCalledWith("| md |");
  });
});

describe("ComparePanel batching: one message carries every column's deltas", () => {
  const views = [];
  function column(channel, traits = {}) {
    const el = document.createElement("div");
    document.body.append(el);
    const model = fakeModel({ header: { model: "m", lang: "en", label: channel + " title" }, status: "waiting", seq: 0,
      reasoning: "", answer_html: "", answer_tail: "", counters: {}, channel, ...traits });
    const cleanup = thinkview.render({ model, el });
    views.push(cleanup);
    return { el, model, cleanup, text: () => el.querySelector(".tb-rtext")?.textContent ?? "",
      answer: () => el.querySelector(".tb-answer").textContent, status: () => el.querySelector(".tb-st").textContent };
  }
  function hub() {
    const model = fakeModel({ lang: "en", rows: [], finished: false, fastest: -1, cheapest: -1, markdown: "" });
    const stop = compare.initialize({ model });
    return { model, stop };
  }
  afterEach(() => {
    for (const c of views.splice(0)) c();
    delete globalThis.__TB_RAF__;
  });

  it("hands each column its own delta, to every rendered view of it, once", () => {
    globalThis.__TB_RAF__ = (f) => f();
    const h = hub();
    const a = column("c1"), b = column("c2"), a2 = column("c1");
    h.model.msg({ t: "D", d: { c1: { t: "d", s: 1, st: "thinking", r: "alpha " }, c2: { t: "d", s: 1, r: "beta" } } });
    h.model.msg({ t: "D", d: { c1: { t: "d", s: 2, r: "more", st: "answering", b: ["<p>A1</p>"] } } });
    expect(a.text()).toBe("alpha more");
    expect(a2.text()).toBe("alpha more");
    expect(b.text()).toBe("beta");
    expect(a.answer()).toBe("A1");
    expect(a.status()).toBe("answering");
    // The column title is a heading of the view.
    const label = a.el.querySelector('[data-tb="col-label"]');
    expect(label.textContent).toBe("c1 title");
    expect(label.getAttribute("role")).toBe("heading");
    h.stop();
  });

  it("a column that missed a batch waits for its snapshot, then takes deltas again", () => {
    globalThis.__TB_RAF__ = (f) => f();
    const h = hub();
    const a = column("k1");
    h.model.msg({ t: "D", d: { k1: { t: "d", s: 1, r: "one " } } });
    h.model.msg({ t: "D", d: { k1: { t: "d", s: 3, r: "three " } } }); // s=2 never arrived
    expect(a.text()).toBe("one ");
    a.model.set("reasoning", "one two three ");
    a.model.set("seq", 3);
    expect(a.text()).toBe("one two three ");
    h.model.msg({ t: "D", d: { k1: { t: "d", s: 4, r: "four" } } });
    expect(a.text()).toBe("one two three four");
    // Its own comm still works (the final delta of a column comes that way).
    a.model.msg({ t: "d", s: 5, r: "!" });
    expect(a.text()).toBe("one two three four!");
  });

  it("a removed view leaves the channel; unknown channels and other messages are ignored", () => {
    globalThis.__TB_RAF__ = (f) => f();
    const h = hub();
    const a = column("z1");
    views.pop()();
    expect(globalThis.__TB_HUB__.has("z1")).toBe(false);
    h.model.msg({ t: "D", d: { z1: { t: "d", s: 1, r: "late" }, nope: { t: "d", s: 1, r: "x" } } });
    h.model.msg({ t: "other" });
    expect(a.el.textContent).not.toContain("late");
    h.stop();
    expect(h.model.listenerCount()).toBe(0);
  });
});

describe("ChatPanel redrawn when a turn ends", () => {
  it("keeps the prompt's draft and focus in the new drawing", async () => {
    const model = chatModel({ uid: "panel-1" });
    const el1 = document.createElement("div");
    document.body.append(el1);
    const cleanup1 = chat.render({ model, el: el1 });
    const p1 = q(el1, "prompt");
    p1.focus();
    p1.value = "half-typed next question";
    p1.dispatchEvent(new Event("input"));
    // JupyterLab draws the rewritten output, then takes the old drawing away.
    const el2 = document.createElement("div");
    document.body.append(el2);
    chat.render({ model, el: el2 });
    cleanup1();
    el1.remove();
    await new Promise((r) => setTimeout(r, 5));
    const p2 = q(el2, "prompt");
    expect(p2.value).toBe("half-typed next question");
    expect(document.activeElement).toBe(p2);
    // Sent: the next drawing starts empty; another panel has its own draft.
    p2.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    expect(model.sent.at(-1)).toEqual({ t: "send", text: "half-typed next question" });
    const el3 = document.createElement("div");
    chat.render({ model, el: el3 });
    expect(q(el3, "prompt").value).toBe("");
    const other = document.createElement("div");
    chat.render({ model: chatModel({ uid: "panel-2" }), el: other });
    expect(q(other, "prompt").value).toBe("");
  });
});

describe("ChatPanel log follows the newest turn", () => {
  // jsdom has no layout: a log of fixed client height whose scroll height grows with its children.
  function fakeLog() {
    const panel = document.createElement("div"), log = document.createElement("div"), el = document.createElement("div");
    panel.className = "tb-chat";
    log.className = "tb-chat-log";
    panel.append(log, el);
    document.body.append(panel);
    let top = 0;
    Object.defineProperty(log, "clientHeight", { get: () => 100 });
    Object.defineProperty(log, "scrollHeight", { get: () => 100 + 50 * log.children.length });
    Object.defineProperty(log, "scrollTop", {
      get: () => top,
      set: (v) => ((top = Math.max(0, Math.min(v, log.scrollHeight - 100))), log.dispatchEvent(new Event("scroll"))),
    });
    const grow = () => log.append(document.createElement("div"));
    return { log, el, grow, userScroll: (v) => (log.scrollTop = v) };
  }
  const frames = () => new Promise((r) => setTimeout(r, 40));

  it("scrolls to the end as turns grow, stops when the user scrolls up, resumes at the bottom", async () => {
    const { log, el, grow, userScroll } = fakeLog();
    const stop = follow(el, "p-follow-1");
    await frames();
    grow();
    await frames();
    expect(log.scrollTop).toBe(50);
    grow();
    await frames();
    expect(log.scrollTop).toBe(100); // the newest turn's end (its counters) in sight
    await new Promise((r) => setTimeout(r, 1600)); // after the redraw window, user scrolls count
    userScroll(20); // reading an earlier turn
    grow();
    await frames();
    expect(log.scrollTop).toBe(20); // left where the user is
    userScroll(log.scrollHeight - 100); // back at the bottom: follows again
    grow();
    await frames();
    expect(log.scrollTop).toBe(log.scrollHeight - 100);
    stop();
  }, 5000);

  it("a redrawn log (the turn ended) opens at its end when it was following", async () => {
    const first = fakeLog();
    const stop1 = follow(first.el, "p-follow-2");
    first.grow();
    first.grow();
    first.grow();
    await frames();
    stop1();
    const second = fakeLog(); // JupyterLab draws the rewritten output afresh: scrollTop 0
    const stop2 = follow(second.el, "p-follow-2");
    second.grow();
    second.grow();
    second.grow();
    await frames();
    expect(second.log.scrollTop).toBe(150);
    stop2();
  });
});
