import { afterEach, beforeEach, describe, expect, it } from "vitest";
import widget from "../thinkview.js";
import { fakeModel } from "./helpers.js";

// The tool-loop timeline (thinkbook/_view_timeline.py): items cut the reasoning at "at" (UTF-16
// units), tool cards, approval buttons, answer text between rounds, sources and thumbnails.

let frames = [];
const flush = () => {
  while (frames.length) frames.shift()();
};
beforeEach(() => {
  frames = [];
  globalThis.__TB_RAF__ = (cb) => frames.push(cb);
  document.body.innerHTML = "";
});
afterEach(() => {
  delete globalThis.__TB_RAF__;
  delete globalThis.__xss;
});

function view(model) {
  const el = document.createElement("div");
  document.body.append(el);
  widget.render({ model, el });
  return el;
}
// The timeline in order: ["r:<text>", "tool:<name>:<state>", "say:<text>", ...].
const order = (el) =>
  [...el.querySelector(".tb-tl").children].map((n) =>
    n.tagName == "DETAILS" && n.dataset.tb == "tool"
      ? `tool:${n.querySelector(".tb-tool-name").textContent}:${n.className.replace(/.*tb-tool-/, "")}`
      : n.classList.contains("tb-say")
        ? `say:${n.textContent}`
        : `r:${n.querySelector(".tb-rtext").textContent}`,
  );

const HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
const card = (i, at, st, extra = {}) => ({ i, k: "tool", at, name: "get_weather", args: '{\n  "city": "Paris"\n}', args_more: 0, st, ...extra });

describe("timeline", () => {
  it("streams reasoning, a card, more reasoning in order, and folds what is behind", () => {
    const m = fakeModel({ status: "thinking" });
    const el = view(m);
    m.msg({ t: "d", s: 1, r: "First I look 🌦 up." });
    flush();
    expect(order(el)).toEqual(["r:First I look 🌦 up."]);
    expect(el.querySelector('[data-tb="reasoning"]').open).toBe(true);
    // The card and the start of round 2 in one delta: the text after "at" goes below the card.
    const at = "First I look 🌦 up.".length; // UTF-16 units, like the kernel counts
    m.msg({ t: "d", s: 2, st: "tools", tl: [card(0, at, "run")] });
    m.msg({ t: "d", s: 3, st: "thinking", tl: [card(0, at, "ok", { res: '{"temp_c": 18}', res_more: 0, sec: 0.25 })], r: "18 degrees" });
    flush();
    expect(order(el)).toEqual(["r:First I look 🌦 up.", "tool:get_weather:ok", "r:18 degrees"]);
    m.msg({ t: "d", s: 4, r: ", a jacket." });
    flush();
    expect(order(el)[2]).toBe("r:18 degrees, a jacket.");
    const [first, tool, more] = el.querySelector(".tb-tl").children;
    expect(first.open).toBe(false); // behind the card: folded
    expect(more.open).toBe(true); // the live segment
    expect(more.dataset.tb).toBe("reasoning-more");
    expect(more.querySelector("summary").textContent).toBe("Reasoning, continued");
    expect(tool.open).toBe(false); // done: folded
    expect(tool.querySelector(".tb-tool-st").textContent).toBe("✓ 0.25s");
    expect(tool.querySelector(".tb-tool-args").textContent).toBe('{ "city": "Paris" }');
    expect([...tool.querySelectorAll("pre")].map((p) => p.textContent)).toEqual(['{\n  "city": "Paris"\n}', '{"temp_c": 18}']);
    m.msg({ t: "d", s: 5, st: "answering", b: ["<p>Take a jacket.</p>"] });
    flush();
    expect(more.open).toBe(false);
    expect(el.querySelector(".tb-answer").textContent).toBe("Take a jacket.");
  });

  it("shows a spinner while a call runs, and the snapshot rebuilds the same timeline", () => {
    const m = fakeModel({ status: "tools", reasoning: "abc", seq: 2, timeline: [card(0, 3, "run")] });
    const el = view(m);
    flush();
    expect(order(el)).toEqual(["r:abc", "tool:get_weather:run"]);
    expect(el.querySelector(".tb-tool .tb-spin")).not.toBeNull();
    expect(el.querySelector(".tb-tool-st").textContent).toBe("running…");
    expect(el.querySelector(".tb-st").textContent).toBe("running tools");
    m.set({ seq: 3, status: "thinking", reasoning: "abcdef", timeline: [card(0, 3, "err", { err: "boom", sec: 0.5 })] });
    flush();
    expect(order(el)).toEqual(["r:abc", "tool:get_weather:err", "r:def"]);
    expect(el.querySelector(".tb-tool .tb-spin")).toBeNull();
    expect(el.querySelector(".tb-tool-st").textContent).toBe("✗ error · 0.50s");
  });

  it("moves answer text between rounds into the timeline and clears the answer pane", () => {
    const m = fakeModel({ status: "answering" });
    const el = view(m);
    m.msg({ t: "d", s: 1, r: "hmm", b: ["<p>Let me check.</p>"] });
    flush();
    m.msg({ t: "d", s: 2, st: "tools", ar: 1, tl: [{ i: 0, k: "say", at: 3, html: "<p>Let me check.</p>" }, card(1, 3, "run")] });
    flush();
    expect(order(el)).toEqual(["r:hmm", "say:Let me check.", "tool:get_weather:run"]);
    expect(el.querySelector(".tb-answer").textContent).toBe("");
  });

  it("keeps a card the user opened open when it updates", () => {
    const m = fakeModel({ status: "tools" });
    const el = view(m);
    m.msg({ t: "d", s: 1, tl: [card(0, 0, "run")] });
    flush();
    const tool = el.querySelector(".tb-tool");
    tool.querySelector("summary").click(); // jsdom toggles <details> on a summary click
    expect(tool.open).toBe(true);
    m.msg({ t: "d", s: 2, tl: [card(0, 0, "ok", { res: "18", sec: 0.1 })] });
    flush();
    expect(el.querySelector(".tb-tool")).toBe(tool);
    expect(tool.open).toBe(true);
  });
});

describe("approval", () => {
  it("shows Run and Skip on a waiting card and sends the click once", () => {
    const m = fakeModel({ status: "tools" });
    const el = view(m);
    m.msg({ t: "d", s: 1, tl: [card(0, 0, "ask"), { ...card(1, 0, "ask"), name: "delete_all" }] });
    flush();
    const [a, b] = el.querySelectorAll(".tb-tool");
    expect(a.open && b.open).toBe(true);
    expect(a.querySelector(".tb-tool-st").textContent).toBe("waiting for approval");
    a.querySelector('[data-tb="run"]').click();
    a.querySelector('[data-tb="run"]').click();
    b.querySelector('[data-tb="skip"]').click();
    expect(m.sent).toEqual([{ t: "approve", i: 0, ok: true }, { t: "approve", i: 1, ok: false }]);
    expect(a.querySelector('[data-tb="skip"]').disabled).toBe(true);
    m.msg({ t: "d", s: 2, tl: [card(0, 0, "run"), { ...card(1, 0, "skip"), name: "delete_all" }] });
    flush();
    expect(el.querySelectorAll('[data-tb="run"]').length).toBe(0);
    expect(el.querySelectorAll(".tb-tool")[1].querySelector(".tb-tool-st").textContent).toBe("skipped");
  });
});

describe("untrusted text", () => {
  it("never parses tool names, arguments, results or errors as HTML", () => {
    const m = fakeModel({ status: "tools" });
    const el = view(m);
    const hostile = { i: 0, k: "tool", at: 0, name: HOSTILE, args: HOSTILE, args_more: 0, st: "ok", res: HOSTILE, res_more: 123456, sec: 1 };
    m.msg({ t: "d", s: 1, tl: [hostile, { ...hostile, i: 1, st: "err", res: undefined, err: HOSTILE, err_more: 0 }] });
    flush();
    const tl = el.querySelector(".tb-tl");
    expect(tl.querySelectorAll("img, script").length).toBe(0);
    expect(tl.querySelector(".tb-tool-name").textContent).toBe(HOSTILE);
    expect(tl.querySelectorAll("pre")[1].textContent).toBe(HOSTILE);
    expect(tl.querySelector(".tb-more").textContent).toBe("123,456 more characters");
    expect(tl.querySelectorAll(".tb-tool")[1].querySelectorAll("pre")[1].textContent).toBe(HOSTILE);
    expect(globalThis.__xss).toBeUndefined();
    // A hostile state string cannot inject a class either.
    m.msg({ t: "d", s: 2, tl: [{ ...hostile, st: '" onmouseover="x' }] });
    flush();
    expect(tl.querySelector(".tb-tool").className).toBe("tb-tool tb-tool-onmouseoverx");
  });

  it("shows only data:image and https thumbnails; everything else is text", () => {
    const png = "data:image/png;base64,iVBORw0KGgo=";
    const m = fakeModel({
      status: "done",
      images: [
        { src: png, alt: "input image 1" },
        { src: "https://img.example/a.png", alt: "input image 2" },
        { src: "javascript:alert(1)", alt: "bad" },
        { src: "data:image/svg+xml;base64,PHN2Zz4=", alt: "svg" },
        { src: "", alt: HOSTILE },
      ],
    });
    const el = view(m);
    flush();
    const imgs = [...el.querySelectorAll('[data-tb="images"] img')];
    expect(imgs.map((i) => i.getAttribute("src"))).toEqual([png, "https://img.example/a.png"]);
    expect(imgs[1].referrerPolicy).toBe("no-referrer");
    expect([...el.querySelectorAll(".tb-img-alt")].map((s) => s.textContent)).toEqual(["bad", "svg", HOSTILE]);
    // Images sit above the reasoning.
    const root = el.querySelector(".tb-view");
    expect([...root.children].indexOf(el.querySelector(".tb-imgs"))).toBeLessThan([...root.children].indexOf(el.querySelector(".tb-tl")));
  });

  it("shows the kernel's sanitized sources under the answer, and nothing without them", () => {
    const m = fakeModel({ status: "done" });
    const el = view(m);
    flush();
    expect(el.querySelector('[data-tb="sources"]').hidden).toBe(true);
    m.set({ sources_html: '<ol><li><a href="https://w.example/" target="_blank" rel="noopener noreferrer">W</a></li></ol>' });
    flush();
    const src = el.querySelector('[data-tb="sources"]');
    expect(src.hidden).toBe(false);
    expect(src.textContent).toBe("SourcesW");
    expect(src.previousElementSibling).toBe(el.querySelector(".tb-answer"));
  });
});
