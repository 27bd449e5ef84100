// thinkbook view: anywidget front end for one streamed answer of a thinking model (no build step).
// Snapshot traits + append-only deltas {t:"d", s, r, b, a, st, c}; DOM work is done once per frame.
const L = {
  en: { reasoning: "Reasoning", answer: "Answer", tokens: "Tokens", now: "Thinking…", thought: "Thought for",
    stop: "Stop", copy: "Copy", copied: "Copied", copyAll: "Copy answer", replay: "replaying a recorded answer",
    replayIllustrative: "replaying an illustrative recording (not model output)",
    on: "thinking on", off: "thinking off", budget: "budget", input: "input", cached: "cached", reas: "reasoning",
    ans: "answer", total: "total", ttft: "first token", tthink: "thinking", rate: "tok/s", cost: "cost",
    waiting: "waiting…", thinking: "thinking", answering: "answering", done: "done", stopped: "stopped", error: "error",
    paced: "timings as recorded", unpaced: "replayed without pauses: no timings", hidden: "not shown by the provider",
    tools: "running tools", tool: "Tool", args: "Arguments", result: "Result", errL: "Error", more: " more characters",
    s_run: "running…", s_ask: "waiting for approval", s_ok: "✓", s_err: "✗ error", s_skip: "skipped",
    s_req: "requested: not run here", s_stop: "interrupted", runB: "Run", skipB: "Skip", askQ: "Run this tool call?", continued: "Reasoning, continued",
    sources: "Sources", images: "Input images" },
  zh: { reasoning: "思考过程", answer: "完整回复", tokens: "Token 消耗", now: "思考中…", thought: "已思考",
    stop: "停止", copy: "复制", copied: "已复制", copyAll: "复制回复", replay: "正在回放录制的回答", replayIllustrative: "正在回放示例录制（非模型输出）",
    on: "思考：开", off: "思考：关", budget: "预算", input: "输入", cached: "缓存", reas: "思考",
    ans: "回复", total: "总计", ttft: "首 token", tthink: "思考用时", rate: "tokens/s", cost: "费用",
    waiting: "等待中…", thinking: "思考中", answering: "回答中", done: "已完成", stopped: "已停止", error: "出错",
    paced: "用时为录制时的用时", unpaced: "无停顿回放：无用时", hidden: "服务商未提供思考内容",
    tools: "调用工具中", tool: "工具", args: "参数", result: "结果", errL: "错误", more: " 个字符未显示",
    s_run: "运行中…", s_ask: "等待确认", s_ok: "✓", s_err: "✗ 出错", s_skip: "已跳过", s_req: "已请求：未在此运行",
    s_stop: "已中断", runB: "运行", skipB: "跳过", askQ: "运行这次工具调用？", continued: "继续思考",
    sources: "来源", images: "输入图片" },
};
const LIVE = { waiting: 1, thinking: 1, answering: 1, tools: 1 };
const rank = (s) => ({ waiting: 0, thinking: 1, tools: 1, answering: 2 })[s] ?? 3; // done/stopped/error: 3
const num = (v) => typeof v === "number" && isFinite(v);
const NF = new Intl.NumberFormat("en-US"); // one formatter: toLocaleString builds one per call
const fmt = (n) => NF.format(Math.round(n));
const sec = (s) => s.toFixed(1) + "s";
const CUR = { CNY: "¥", RMB: "¥", USD: "$", EUR: "€" };
// Frame scheduler; tests set globalThis.__TB_RAF__ to run frames synchronously.
const raf = (f) => (globalThis.__TB_RAF__ || globalThis.requestAnimationFrame || ((g) => setTimeout(g, 16)))(f);

function h(tag, cls, parent, text) {
  const e = document.createElement(tag);
  e.className = cls;
  if (text != null) e.textContent = text;
  if (tag == "button") e.type = "button";
  if (parent) parent.append(e);
  return e;
}
const tx = (e, s) => e.__t !== s && (e.textContent = e.__t = s); // write only on change
// Only these image sources are ever set (the kernel checks them too): inline images of the four
// formats every vision API takes, and https URLs the user gave.
const IMG = /^(data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+\/=]+|https:\/\/[^\s"'<>\\]+)$/;
const oneLine = (s, n) => ((s = s.replace(/\s+/g, " ").trim()), s.length > n ? s.slice(0, n - 1) + "…" : s);

// A tool call card (thinkbook/_view_timeline.py): every text is the model's or the tool's, so it
// goes in as text nodes only. Folded unless it waits for a click or the user opened it.
function fillCard(c, it, T, send) {
  const d = c.d, st = String(it.st || "");
  d.className = "tb-tool tb-tool-" + st.replace(/[^a-z]/g, "");
  d.replaceChildren();
  const sm = h("summary", "", d);
  if (st == "run" || st == "ask") h("span", "tb-spin", sm).setAttribute("aria-hidden", "true");
  h("span", "tb-tool-k", sm, T.tool);
  h("code", "tb-tool-name", sm, String(it.name || "?"));
  h("span", "tb-tool-args", sm, oneLine(String(it.args || ""), 60));
  const sec = num(it.sec) && (st == "ok" || st == "err") ? (st == "ok" ? " " : " · ") + it.sec.toFixed(2) + "s" : "";
  h("span", "tb-tool-st", sm, (T["s_" + st] || st) + sec);
  const body = h("div", "tb-tool-body", d);
  const block = (label, text, more) => {
    h("div", "tb-tool-h", body, label);
    h("code", "", h("pre", "tb-tool-pre", body), text);
    if (more > 0) h("div", "tb-more", body, fmt(more) + T.more);
  };
  block(T.args, String(it.args || "{}"), it.args_more);
  if (it.err != null) block(T.errL, String(it.err), it.err_more);
  else if (it.res != null) block(T.result, String(it.res), it.res_more);
  if (st == "ask") {
    const a = h("div", "tb-ask", body);
    h("span", "", a, T.askQ);
    const go = h("button", "tb-btn tb-run", a, T.runB), no = h("button", "tb-btn tb-skip", a, T.skipB);
    go.dataset.tb = "run";
    no.dataset.tb = "skip";
    const answer = (ok) => ((go.disabled = no.disabled = true), send({ t: "approve", i: it.i, ok }));
    go.addEventListener("click", () => answer(true));
    no.addEventListener("click", () => answer(false));
  }
  if (!c.user) d.open = st == "ask";
}

function copy(text, btn, T) {
  const done = (ok) => {
    btn.textContent = ok ? T.copied : "✗";
    setTimeout(() => (btn.textContent = btn.__l), 1200);
  };
  const fallback = () => {
    const ta = h("textarea", "", document.body);
    ta.value = text;
    ta.style.cssText = "position:fixed;opacity:0";
    ta.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch (e) {}
    ta.remove();
    done(ok);
  };
  try { navigator.clipboard.writeText(text).then(() => done(true), fallback); } catch (e) { fallback(); }
}

function addCopy(box, T) {
  for (const pre of box.querySelectorAll("pre")) {
    if (pre.parentNode.className == "tb-pre") continue;
    const w = h("div", "tb-pre");
    pre.before(w);
    const b = h("button", "tb-btn tb-cp", w, T.copy);
    b.__l = T.copy;
    w.append(pre);
    b.addEventListener("click", () => copy(pre.textContent, b, T));
  }
}

// A finished view is static HTML (thinkbook/_fallback.py) ending in a one-line script that queues
// itself on self.__tbq; while this module is loaded, those views get the live view's Copy buttons.
function wireStatic(script) {
  const v = script && script.parentNode;
  if (!v || v.__tb || !v.classList || !v.classList.contains("tb-static")) return;
  v.__tb = 1;
  const T = L[v.lang] || L.en, ans = v.querySelector(".tb-answer"), foot = v.querySelector(".tb-foot");
  if (ans) addCopy(ans, T);
  const data = v.querySelector('script[type="application/json"]');
  // No markdown in the page: the answer is prose whose text is its markdown (see _copy_script).
  let md = null;
  try { md = data ? JSON.parse(data.textContent) : null; } catch (e) {}
  const text = () => (typeof md == "string" ? md : ans ? ans.textContent.trim() : "");
  if (foot && text()) {
    const b = h("button", "tb-btn", null, T.copyAll);
    b.__l = T.copyAll;
    b.addEventListener("click", () => copy(text(), b, T));
    foot.append(" ", b);
  }
}
{
  const q = globalThis.__tbq;
  if (!q || !q.__tb) {
    globalThis.__tbq = { __tb: 1, push: wireStatic };
    if (Array.isArray(q)) q.forEach(wireStatic); // views finished before this module loaded
  }
}

function render({ model, el }) {
  const get = (k) => model.get(k);
  const root = h("div", "tb-view", el), lbl = h("div", "tb-col-label", root), bar = h("div", "tb-bar", root);
  const mName = h("span", "tb-model", bar), mThink = h("span", "tb-think", bar), stEl = h("span", "tb-st", bar);
  const badge = h("span", "tb-replay", bar), errEl = h("span", "tb-err", bar), stop = h("button", "tb-btn tb-stop", bar);
  const imgs = h("div", "tb-imgs", root), tl = h("div", "tb-tl", root); // thumbnails; reasoning + tool cards
  const det = h("details", "tb-reason"), sum = h("summary", "", det), rBox = h("div", "tb-rtext", det);
  const hid = h("div", "tb-hidden"); // "Thought for … (not shown by the provider)": tokens, no text
  const ans = h("div", "tb-answer tb-code", root), doneEl = h("div", "tb-done", ans), tailEl = h("div", "tb-tail", ans);
  const srcs = h("div", "tb-sources", root), srcH = h("div", "tb-sources-h", srcs), srcL = h("div", "", srcs);
  const foot = h("div", "tb-foot", root), cnt = h("span", "tb-counters", foot), cpAll = h("button", "tb-btn", foot);
  // Stable hooks for tests and user styles, independent of the class names.
  for (const [node, name] of [[stEl, "status"], [stop, "stop"], [det, "reasoning"], [ans, "answer"], [cnt, "counters"],
    [lbl, "col-label"], [imgs, "images"], [srcs, "sources"]])
    node.dataset.tb = name;
  lbl.setAttribute("role", "heading");
  lbl.setAttribute("aria-level", "3");

  // Logical state, updated as messages arrive: applied seq, reasoning, finished answer html, tail html.
  let applied = 0, gap = false, st, seen = false, counters = get("counters") || {}, rText = "", dH = "", tH = "";
  // Pending DOM work for the next frame.
  let snapR = null, snapA = null, rq = "", bq = [], tq = null;
  let t0 = null, t1 = null, user = false, auto = null, stick = true, stopped = false;
  let frame = 0, dead = false, timer = 0, T = L.en, first = true;
  // The timeline: items cut the reasoning (rText) at their "at" offsets; tailBox takes new reasoning.
  let items = [], tlDirty = false, tailBox = null, wasEmpty = null, imgKey = null, srcKey = null;
  const segs = [], cards = new Map();
  // A replay's times are told at the recording's pace: the kernel scales its own, this view its clock.
  const pace = () => { const p = (get("header") || {}).pace; return num(p) ? p : 1; };
  const kick = () => frame || dead || ((frame = 1), raf(measured));

  function setSt(s) {
    if (seen && s === st) return;
    const n = Date.now(), tm = counters.timings || {}, e = num(tm.thinking_seconds) ? tm.thinking_seconds : tm.elapsed;
    // A view that first sees "thinking" late starts its clock from the stream's own measure.
    if (s == "thinking" && t0 == null) t0 = n - (!seen && num(e) && pace() > 0 ? (e * 1000) / pace() : 0);
    if (s != "thinking" && t0 != null && t1 == null) t1 = n;
    st = s;
    seen = true;
    if (s == "thinking" && !timer) timer = setInterval(kick, 100);
    if (s != "thinking" && timer) timer = clearInterval(timer) || 0;
  }
  // A snapshot older than the applied deltas may not move the status backwards.
  function syncSt() {
    const s = get("status") || "waiting";
    if ((get("seq") || 0) >= applied || rank(s) >= rank(st)) setSt(s);
  }
  function snapshot() {
    syncSt();
    const s = get("seq") || 0;
    if (s < applied) return; // older than what the deltas gave: the text stays
    const fresh = s > applied || gap || first, r = get("reasoning") || "";
    const a = get("answer_html") || "", t = get("answer_tail") || "";
    applied = s;
    gap = false;
    if (fresh || r !== rText) (rText = snapR = r), (rq = "");
    const tm = get("timeline") || [];
    if (tm.length || items.length) if (fresh || JSON.stringify(tm) !== JSON.stringify(items)) (items = tm.slice()), (tlDirty = true);
    // The snapshot carries the finished blocks and the open tail apart: no guessing where one ends.
    if (!fresh && a.length > dH.length && a.startsWith(dH)) {
      // The snapshot extends what streamed (e.g. the final render): append, don't rebuild.
      bq.push(a.slice(dH.length)), (dH = a);
      if (t !== tH) tq = tH = t;
    } else if (fresh || a !== dH || t !== tH) (dH = a), (tH = t), (snapA = [a, t]), (bq = []), (tq = null);
  }
  // Benchmarks set globalThis.__TB_PERF__ = {latency: [], frames: []} and ThinkView(timestamps=True)
  // stamps each delta: then each paint records delta-to-paint latency and its own cost (ms).
  let stamps = [];
  function measured() {
    const perf = globalThis.__TB_PERF__, t = performance.now();
    paint();
    if (!perf) return void (stamps = []);
    const now = Date.now();
    for (const ts of stamps) perf.latency.push(now - ts);
    perf.frames.push(performance.now() - t);
    stamps = [];
  }
  function onMsg(m) {
    if (!m || m.t !== "d" || gap || !(m.s > applied)) return;
    if (m.s > applied + 1) return void (gap = true); // a message was dropped: wait for a snapshot
    applied = m.s;
    if (m.ts) stamps.push(m.ts);
    if (m.r) (rq += m.r), (rText += m.r);
    if (m.tl) for (const it of m.tl) (items[it.i] = it), (tlDirty = true);
    if (m.ar) (dH = tH = ""), (snapA = ["", ""]), (bq = []), (tq = null); // the answer so far moved to the timeline
    if (m.b) for (const x of m.b) bq.push(x), (dH += x), (tH = "");
    // The tail arrives as "keep the first ak characters, then add a" (ak counts UTF-16 units).
    if (typeof m.a == "string") tq = tH = (m.ak ? tH.slice(0, m.ak) : "") + m.a;
    if (m.c) counters = m.c;
    if (m.e) counters = { ...counters, estimate: { reasoning_tokens: m.e[0], answer_tokens: m.e[1] } };
    if (m.st) setSt(m.st);
    kick();
  }

  const H = { status: syncSt, seq: snapshot, reasoning: snapshot, answer_html: snapshot, answer_tail: snapshot,
    counters: () => (counters = get("counters") || {}), error: 0, header: 0, can_stop: 0, answer_markdown: 0,
    timeline: snapshot, images: 0, sources_html: 0 };
  const offs = [["msg:custom", onMsg]];
  for (const k in H) offs.push(["change:" + k, () => (H[k] && H[k](), kick())]);
  for (const [n, f] of offs) model.on(n, f);
  // A panel batching its views sends their deltas in its own messages, addressed by channel.
  const ch = get("channel"), hub = ch ? (globalThis.__TB_HUB__ ||= new Map()) : null;
  if (hub) (hub.get(ch) || hub.set(ch, new Set()).get(ch)).add(onMsg);

  sum.addEventListener("click", () => (user = true));
  det.addEventListener("toggle", () => det.open && stick && (rBox.scrollTop = rBox.scrollHeight));
  rBox.addEventListener("scroll", () => (stick = rBox.scrollTop + rBox.clientHeight >= rBox.scrollHeight - 8));
  stop.addEventListener("click", () => stopped || ((stopped = stop.disabled = true), model.send({ t: "stop" })));
  cpAll.addEventListener("click", () => get("answer_markdown") && copy(get("answer_markdown"), cpAll, T));

  // One clock for the fold's header and the footer: while thinking, this view's own (the kernel
  // sends its measure only with status changes); after, the kernel's measure.
  function thinkSecs(tm) {
    const k = pace();
    if (st == "thinking" && t0 != null) return k > 0 ? ((Date.now() - t0) / 1000) * k : null;
    if (num(tm.thinking_seconds)) return tm.thinking_seconds;
    return t0 != null && t1 != null && k > 0 ? ((t1 - t0) / 1000) * k : null;
  }

  // Lays the reasoning segments and the cards out in order. The first segment with text is the
  // fold with the clock and totals (det); later ones are "continued" folds. Runs when items or
  // the whole reasoning change; streamed reasoning otherwise just appends to the last segment.
  function layout(empty) {
    const nodes = [];
    let pos = 0, k = 0, main = false;
    const seg = (text) => {
      if (!text) return null;
      if (!main) return (main = true), (rBox.textContent = text), nodes.push(det), rBox;
      const f = segs[k] || (segs[k] = fold());
      k++;
      f.b.textContent = text;
      tx(f.s, T.continued);
      nodes.push(f.d);
      return f.b;
    };
    for (const it of items) {
      if (!it) continue;
      const at = Math.max(pos, Math.min(rText.length, it.at | 0));
      seg(rText.slice(pos, at));
      pos = at;
      nodes.push(it.k == "tool" ? card(it) : say(it));
    }
    tailBox = seg(rText.slice(pos));
    if (!main && empty) (rBox.textContent = ""), nodes.push(det), (tailBox = rBox); // "Thinking…" before any text
    const kids = tl.children;
    if (nodes.length !== kids.length || nodes.some((n, i) => kids[i] !== n)) tl.replaceChildren(...nodes);
  }
  function fold() {
    const d = h("details", "tb-reason tb-cont"), f = { d, s: h("summary", "", d), b: h("div", "tb-rtext", d), user: false, auto: null };
    d.dataset.tb = "reasoning-more";
    f.s.addEventListener("click", () => (f.user = true));
    return f;
  }
  function card(it) {
    let c = cards.get(it.i);
    if (!c) {
      c = { d: h("details", "tb-tool"), key: "", user: false };
      c.d.dataset.tb = "tool";
      c.d.addEventListener("click", (e) => e.target.closest("summary") && (c.user = true));
      cards.set(it.i, c);
    }
    const key = JSON.stringify(it) + T.tool;
    if (c.key !== key) (c.key = key), fillCard(c, it, T, (x) => model.send(x));
    return c.d;
  }
  function say(it) {
    let c = cards.get(it.i);
    if (!c || c.html !== it.html) {
      c = { d: c && c.d && c.d.className == "tb-say" ? c.d : h("div", "tb-say"), html: it.html };
      c.d.innerHTML = String(it.html || ""); // sanitized markdown, rendered by the kernel like the answer
      addCopy(c.d, T);
      cards.set(it.i, c);
    }
    return c.d;
  }
  // Open while it is the live segment; folded once something follows it (unless the user chose).
  const wantFor = (a, last) => !last ? false : st == "thinking" ? true : st == "answering" || st == "done" ? false
    : a == null && rText !== "" && !dH && !tH ? true : null;

  function paint() {
    frame = 0;
    if (dead) return;
    const hd = get("header") || {}, c = counters, tm = c.timings || {}, u = c.usage || {}, es = c.estimate || {};
    const live = !!LIVE[st], err = get("error") || "", rp = typeof hd.replay == "string" && hd.replay;
    T = L[hd.lang] || L.en;
    root.classList.toggle("tb-live", live);

    // Status line.
    lbl.hidden = !hd.label;
    tx(lbl, hd.label || "");
    tx(mName, hd.label && hd.model && hd.label.startsWith(hd.model) ? "" : hd.model || ""); // not twice
    tx(mThink, hd.thinking === true ? T.on + (num(hd.budget) ? ` · ${T.budget} ${fmt(hd.budget)}` : "")
      : hd.thinking === false ? T.off : "");
    tx(stEl, T[st] || st);
    stEl.className = "tb-st tb-st-" + st;
    badge.hidden = !rp;
    tx(badge, rp ? (rp.startsWith("replay:illustrative:") ? T.replayIllustrative : T.replay) : "");
    badge.title = rp || "";
    tx(errEl, err);
    errEl.title = err;
    stop.hidden = !(live && get("can_stop"));
    tx(stop, T.stop);
    stop.disabled = stopped;

    // Reasoning: text nodes only; folds itself unless the user toggled it.
    let rCh = snapR != null || rq;
    const empty = rText === "" && st == "thinking" && hd.thinking !== false;
    if (empty !== wasEmpty) (wasEmpty = empty), (tlDirty = true);
    if (tlDirty || snapR != null || (rq && !tailBox)) (tlDirty = false), (snapR = null), (rq = ""), layout(empty);
    else if (rq) tailBox.appendChild(document.createTextNode(rq)), (rq = "");
    det.setAttribute("aria-label", T.reasoning);
    // Stopped or failed: leave the fold as it was; a view drawn afresh in that state (the display
    // is replaced when the stream ends) opens it when the stream stopped before any answer.
    const want = wantFor(auto, tailBox === rBox);
    if (!user && want != null && want !== auto) det.open = auto = want;
    for (const f of segs) {
      const w = f.d.isConnected && !f.user ? wantFor(f.auto, tailBox === f.b) : null;
      if (w != null && w !== f.auto) f.d.open = f.auto = w;
    }
    const ts = thinkSecs(tm);
    if (st == "thinking" && t0 != null) tx(sum, ts != null ? `${T.now} ${sec(ts)}` : T.now);
    else {
      const tk = num(u.reasoning_tokens) ? fmt(u.reasoning_tokens) : es.reasoning_tokens > 0 ? "≈" + fmt(es.reasoning_tokens) : "";
      tx(sum, (ts != null ? `${T.thought} ${sec(ts)}` : T.reasoning) + (tk ? ` · ${tk} tokens` : ""));
    }
    const hidden = !!c.reasoning_hidden && rText === "";
    if (hidden !== hid.isConnected) hidden ? ans.before(hid) : hid.remove();
    if (hidden) tx(hid, `${sum.textContent} (${T.hidden})`);
    if (rCh && stick && tailBox && tailBox.parentNode.open) tailBox.scrollTop = tailBox.scrollHeight;

    // Input images and web sources: rebuilt only when they change.
    const im = get("images") || [], ik = JSON.stringify(im);
    if (ik !== imgKey) {
      imgKey = ik;
      imgs.replaceChildren();
      for (const x of im) {
        const src = String((x && x.src) || ""), alt = String((x && x.alt) || "image");
        if (!IMG.test(src)) { h("span", "tb-img-alt", imgs, alt); continue; }
        const img = h("img", "", imgs);
        img.alt = img.title = alt;
        img.referrerPolicy = "no-referrer";
        img.src = src;
      }
    }
    imgs.hidden = !im.length;
    imgs.setAttribute("aria-label", T.images);
    const sh = get("sources_html") || "";
    if (sh !== srcKey) (srcKey = sh), (srcL.innerHTML = sh); // sanitized by the kernel (_search, _markdown)
    srcs.hidden = !sh;
    tx(srcH, T.sources);

    // Answer: finished blocks are append-only, the open tail is replaced.
    ans.setAttribute("aria-label", T.answer);
    if (snapA) {
      doneEl.innerHTML = snapA[0];
      tailEl.innerHTML = snapA[1];
      snapA = null;
      addCopy(doneEl, T);
      addCopy(tailEl, T);
    }
    if (bq.length) {
      // New blocks get their copy buttons apart: no search through the whole answer each frame.
      const tpl = document.createElement("template");
      tpl.innerHTML = bq.join("");
      bq = [];
      addCopy(tpl.content, T);
      doneEl.append(tpl.content);
    }
    if (tq != null) (tailEl.innerHTML = tq), (tq = null), addCopy(tailEl, T);

    // Counters: exact usage when counters.exact, else live estimates marked "≈".
    const tok = (k) => {
      if (c.exact && num(u[k])) return fmt(u[k]);
      const v = es[k] > 0 ? es[k] : u[k];
      return v > 0 ? "≈" + fmt(v) : null;
    };
    const sum3 = (num(u.prompt_tokens) ? u.prompt_tokens : 0) + (es.reasoning_tokens || 0) + (es.answer_tokens || 0);
    const parts = [[T.input, tok("prompt_tokens")], [T.cached, u.cached_tokens || es.cached_tokens ? tok("cached_tokens") : null],
      [T.reas, tok("reasoning_tokens")], [T.ans, tok("answer_tokens")], [T.total, tok("total_tokens") ?? (sum3 ? "≈" + fmt(sum3) : null)]]
      .filter((p) => p[1] != null).map((p) => p.join(" "));
    const line = parts.length ? [`${T.tokens}: ${parts.join(" · ")}`] : [], co = c.cost;
    if (num(tm.time_to_first_token)) line.push(`${T.ttft} ${sec(tm.time_to_first_token)}`);
    if (ts != null) line.push(`${T.tthink} ${sec(ts)}`); // the fold's clock (one clock, issue 11.9)
    if (num(tm.tokens_per_second)) line.push(`${tm.tokens_per_second.toFixed(1)} ${T.rate}`);
    if (co && num(co.amount)) line.push(`${T.cost} ${c.exact ? "" : "≈"}${CUR[co.currency] || (co.currency || "") + " "}${co.amount.toFixed(4)}`);
    if (rp && num(hd.pace)) line.push(hd.pace > 0 ? T.paced : T.unpaced);
    tx(cnt, line.join(" · "));
    tx(cpAll, (cpAll.__l = T.copyAll));
    cpAll.disabled = !get("answer_markdown");
  }

  setSt(get("status") || "waiting");
  snapshot();
  first = false;
  paint();
  return () => {
    dead = true;
    for (const [n, f] of offs) model.off(n, f);
    if (hub) hub.get(ch)?.delete(onMsg) && !hub.get(ch).size && hub.delete(ch);
    clearInterval(timer);
    root.remove();
  };
}

export default { render };
