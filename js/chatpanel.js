// thinkbook ChatPanel controls (anywidget, no build step). The turns themselves are ThinkViews that
// JupyterLab renders next to this widget; here: settings, prompt box, Send/Stop, Clear, Export, totals.
// Kernel messages: {t:"send", text} {t:"stop"} {t:"clear"} {t:"export", format}; reply {t:"export", ...}.
const L = {
  en: { model: "Model", other: "Other model (any server)", thinking: "Thinking", budget: "Thinking budget",
    noBudget: "model default", effort: "Effort", effortDefault: "default", low: "low", medium: "medium", high: "high", preserve: "Preserve thinking", system: "System prompt", region: "Region",
    endpoint: "Endpoint (base URL)", prompt: "Message", send: "Send", stop: "Stop", clear: "Clear",
    exportMd: "Export markdown", exportJson: "Export JSON", finish: "Finish chat",
    finishTip: "End the chat here: it becomes a static transcript that saved notebooks show everywhere",
    totals: "Session", turn: "turn", turns: "turns", cost: "cost",
    only: "thinking-only model: thinking is always on", defOn: "default for this model: on",
    defOff: "default for this model: off", hint: "Enter sends, Shift+Enter adds a line",
    hybrid: "hybrid", "thinking-only": "thinking-only", settings: "Settings", regionDefault: "default",
    input: "input", cached: "cached", reasoning: "reasoning", answer: "answer", total: "total", unpriced: "unpriced" },
  zh: { model: "模型", other: "其他模型（任意服务）", thinking: "深度思考", budget: "思考预算",
    noBudget: "模型默认", effort: "思考强度", effortDefault: "默认", low: "低", medium: "中", high: "高", preserve: "保留思考过程", system: "系统提示词", region: "地域",
    endpoint: "接入地址（base URL）", prompt: "消息", send: "发送", stop: "停止", clear: "清空",
    exportMd: "导出 Markdown", exportJson: "导出 JSON", finish: "结束对话",
    finishTip: "在此结束对话：变为静态记录，保存的笔记本在任何地方都能显示", totals: "本次会话", turn: "轮", turns: "轮", cost: "费用",
    only: "仅思考模型：始终开启思考", defOn: "该模型默认：开", defOff: "该模型默认：关",
    hint: "Enter 发送，Shift+Enter 换行", hybrid: "混合思考", "thinking-only": "仅思考", settings: "设置",
    regionDefault: "默认", input: "输入", cached: "缓存", reasoning: "思考", answer: "回复", total: "总计",
    unpriced: "未计价" },
};
const OTHER = "__other__";
const NF = new Intl.NumberFormat("en-US");
let uid = 0;

function h(tag, cls, parent, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  if (tag == "button") e.type = "button";
  if (parent) parent.append(e);
  return e;
}
// A labelled field: <label for> + control, so screen readers announce every control.
function field(parent, T, key, control) {
  const id = `tb-${key}-${++uid}`, wrap = h("div", "tb-field tb-f-" + key, parent);
  const label = h("label", "", wrap, T[key]);
  label.htmlFor = control.id = id;
  wrap.append(control);
  return wrap;
}

export function totalsText(t, T) {
  const n = (t && t.turns) || 0, turns = `${NF.format(n)} ${n === 1 ? T.turn : T.turns}`;
  if (!n) return `${T.totals}: ${turns}`;
  const parts = [["input", "prompt_tokens"], ["cached", "cached_tokens"], ["reasoning", "reasoning_tokens"],
    ["answer", "answer_tokens"], ["total", "total_tokens"]].filter(([, k]) => t[k]).map(([n, k]) => `${T[n]} ${NF.format(t[k])}`);
  let s = `${T.totals}: ${turns}` + (parts.length ? " · " + parts.join(" · ") : "");
  const costs = Object.entries(t.cost || {});
  if (costs.length) s += ` · ${T.cost} ` + costs.map(([c, a]) => `${a.toFixed(4)} ${c}`).join(" + ");
  if (t.unpriced && costs.length) s += ` (${t.unpriced} ${T.unpriced})`;
  return s;
}

function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", "", document.body);
  a.href = url;
  a.download = name;
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// Per panel (uid): the prompt's draft and whether it had the focus. When a turn ends the kernel
// rewrites the panel's output (for saved notebooks), so JupyterLab draws the panel afresh: the new
// drawing takes the draft and the focus over, and typing goes on where it was.
const DRAFTS = new Map();

// Per panel (uid): whether its chat log follows the newest turn, and where the user left it.
const FOLLOW = new Map();

// The chat log (the panel's turns, drawn by JupyterLab next to this widget) keeps the newest turn's
// end, its counters, in sight as it grows, as chat apps do; not once the user scrolled up to read,
// until they scroll back down. Survives the redraw when a turn ends (the panel's output is rewritten).
// A finished turn is its static rendering (an HTML widget: its one-line queue script does not run
// there): hand each to the view module's queue (js/thinkview.js), which adds the Copy buttons.
export function wireSettled(log) {
  const q = globalThis.__tbq;
  if (!log || !q || !q.__tb) return; // the view module is not loaded in this page yet
  for (const v of log.querySelectorAll(".tb-settled .tb-static")) {
    if (v.__tb) continue;
    const s = [...v.children].find((c) => c.tagName === "SCRIPT" && c.type !== "application/json");
    if (s) q.push(s);
  }
}

export function follow(el, uid) {
  const st = FOLLOW.get(uid) || { stick: true, top: 0 };
  if (uid) FOLLOW.set(uid, st);
  let log = null, obs = null, timer = 0, frame = 0, tries = 0, dead = false;
  const restoreUntil = Date.now() + 1500; // while the redrawn turns come in, keep the user's place
  const end = () => {
    frame = 0;
    if (!log || dead) return;
    if (st.stick) log.scrollTop = log.scrollHeight;
    else if (Date.now() < restoreUntil) log.scrollTop = st.top;
  };
  const later = () => {
    wireSettled(log);
    frame || (frame = (globalThis.requestAnimationFrame || ((f) => setTimeout(f, 16)))(end));
  };
  const onScroll = () => {
    if (!st.stick && Date.now() < restoreUntil) return;
    st.stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
    st.top = log.scrollTop;
  };
  const attach = () => {
    timer = 0;
    if (dead) return;
    log = el.closest?.(".tb-chat")?.querySelector(".tb-chat-log") || null;
    if (!log) return void (tries++ < 100 && (timer = setTimeout(attach, 50))); // not in the page yet
    log.addEventListener("scroll", onScroll, { passive: true });
    obs = new MutationObserver(later);
    obs.observe(log, { childList: true, subtree: true, characterData: true });
    wireSettled(log);
    end();
  };
  attach();
  return () => {
    dead = true;
    clearTimeout(timer);
    obs?.disconnect();
    log?.removeEventListener("scroll", onScroll);
  };
}

function render({ model, el }) {
  const get = (k) => model.get(k);
  const T = L[get("lang")] || L.en;
  const set = (k, v) => (model.set(k, v), model.save_changes());
  const root = h("div", "tb-chat-controls", el);

  // Settings (collapsible on narrow outputs; open by default).
  const det = h("details", "tb-settings", root), sum = h("summary", "", det, T.settings);
  det.open = true;
  const grid = h("div", "tb-settings-grid", det);
  const pick = h("select"), other = h("input", "tb-other");
  other.type = "text";
  other.placeholder = T.other;
  other.setAttribute("aria-label", T.other);
  field(grid, T, "model", pick).append(other);
  const think = h("input"), thinkNote = h("span", "tb-note");
  think.type = "checkbox";
  field(grid, T, "thinking", think).append(thinkNote);
  const budget = h("input"), budgetOut = h("output", "tb-note");
  budget.type = "range";
  budget.min = 0;
  budget.step = 256;
  const budgetField = field(grid, T, "budget", budget);
  budgetField.append(budgetOut);
  // Effort: a level each provider maps to its own knob; "default" leaves it to the server.
  const effort = h("select");
  h("option", "", effort, T.effortDefault).value = "";
  for (const level of get("efforts") || ["low", "medium", "high"]) h("option", "", effort, T[level] || level).value = level;
  const effortField = field(grid, T, "effort", effort);
  const preserve = h("input");
  preserve.type = "checkbox";
  const preserveField = field(grid, T, "preserve", preserve);
  const region = h("select");
  field(grid, T, "region", region);
  const endpoint = h("input");
  endpoint.type = "url";
  endpoint.placeholder = "https://…/v1";
  field(grid, T, "endpoint", endpoint);
  const system = h("textarea");
  system.rows = 2;
  field(grid, T, "system", system).classList.add("tb-wide");

  // Prompt row: textarea, Send/Stop, Clear, Export.
  const row = h("div", "tb-prompt-row", root);
  const prompt = h("textarea", "tb-prompt");
  prompt.rows = 2;
  prompt.placeholder = T.hint;
  field(row, T, "prompt", prompt).classList.add("tb-wide");
  const btns = h("div", "tb-buttons", row);
  const send = h("button", "tb-btn tb-send", btns), clear = h("button", "tb-btn", btns, T.clear);
  const exMd = h("button", "tb-btn", btns, T.exportMd), exJs = h("button", "tb-btn", btns, T.exportJson);
  const finish = h("button", "tb-btn", btns, T.finish);
  finish.title = T.finishTip;
  const notice = h("div", "tb-notice", root), totals = h("div", "tb-totals", root);
  notice.setAttribute("role", "status");
  notice.setAttribute("aria-live", "polite");
  totals.setAttribute("aria-live", "off");
  for (const [node, name] of [[pick, "model"], [other, "other"], [think, "thinking"], [budget, "budget"],
    [effort, "effort"], [preserve, "preserve"], [region, "region"], [endpoint, "endpoint"], [system, "system"], [prompt, "prompt"],
    [send, "send"], [clear, "clear"], [exMd, "export-md"], [exJs, "export-json"], [finish, "finish"], [notice, "notice"], [totals, "totals"]])
    node.dataset.tb = name;

  // Model picker: catalog grouped by family with the thinking mode, then "other" (free text).
  const families = new Map();
  for (const m of get("choices") || []) {
    if (!families.has(m.family)) families.set(m.family, h("optgroup", "", pick));
    const g = families.get(m.family);
    g.label = m.family;
    const o = h("option", "", g, `${m.name} (${T[m.mode] || m.mode})`);
    o.value = m.name;
  }
  h("option", "", pick, T.other).value = OTHER;
  h("option", "", region, T.regionDefault).value = "";
  for (const r of get("regions") || []) h("option", "", region, r).value = r;

  function paint() {
    const m = get("model") || "", caps = get("caps") || {}, busy = !!get("busy");
    const known = [...pick.options].some((o) => o.value === m && o.value !== OTHER);
    pick.value = known ? m : OTHER;
    other.hidden = known;
    if (!known && document.activeElement !== other) other.value = m;
    // Thinking: effective state = explicit value, else the model's default.
    const en = get("enable_thinking"), eff = en == null ? caps.default_thinking !== false : en;
    think.checked = !!eff;
    think.disabled = !!caps.thinking_locked;
    const tip = caps.thinking_locked ? T.only : caps.default_thinking === true ? T.defOn
      : caps.default_thinking === false ? T.defOff : "";
    think.title = thinkNote.textContent = tip;
    // Budget: only where the model takes one, and only while thinking.
    budgetField.hidden = !caps.budget;
    budget.max = get("budget_max") || 38912;
    const b = get("thinking_budget");
    budget.value = b || 0;
    budget.disabled = !eff;
    budget.setAttribute("aria-valuetext", b ? NF.format(b) : T.noBudget);
    budgetOut.textContent = b ? NF.format(b) : T.noBudget;
    effortField.hidden = caps.effort === false;
    effort.value = get("effort") || "";
    effort.disabled = !eff;
    preserveField.hidden = !caps.preserve;
    preserve.checked = !!get("preserve_thinking");
    region.value = get("region") || "";
    if (document.activeElement !== endpoint) endpoint.value = get("base_url") || "";
    if (document.activeElement !== system) system.value = get("system") || "";
    send.textContent = busy ? T.stop : T.send;
    send.classList.toggle("tb-stop", busy);
    finish.disabled = busy;
    send.setAttribute("aria-label", busy ? T.stop : T.send);
    notice.textContent = get("notice") || "";
    notice.hidden = !get("notice");
    totals.textContent = totalsText(get("totals"), T);
    root.classList.toggle("tb-busy", busy);
  }

  const uid = get("uid"), kept = uid && DRAFTS.get(uid);
  const keep = (focus) => uid && DRAFTS.set(uid, { text: prompt.value, focus });
  if (kept) {
    prompt.value = kept.text;
    if (kept.focus) setTimeout(() => prompt.isConnected && !el.contains(document.activeElement) && prompt.focus(), 0);
  }
  const submit = () => {
    if (get("busy")) return model.send({ t: "stop" });
    const text = prompt.value;
    if (!text.trim()) return;
    model.send({ t: "send", text });
    prompt.value = "";
    keep(document.activeElement === prompt);
  };
  const on = (node, ev, f) => node.addEventListener(ev, f);
  on(pick, "change", () => (pick.value === OTHER ? (other.hidden = false, other.focus()) : set("model", pick.value)));
  on(other, "change", () => other.value.trim() && set("model", other.value.trim()));
  on(think, "change", () => set("enable_thinking", think.checked));
  on(budget, "input", () => (budgetOut.textContent = +budget.value ? NF.format(+budget.value) : T.noBudget));
  on(budget, "change", () => set("thinking_budget", +budget.value > 0 ? +budget.value : null));
  on(effort, "change", () => set("effort", effort.value || null));
  on(preserve, "change", () => set("preserve_thinking", preserve.checked));
  on(region, "change", () => set("region", region.value));
  on(endpoint, "change", () => set("base_url", endpoint.value.trim()));
  on(system, "change", () => set("system", system.value));
  on(prompt, "input", () => keep(true));
  on(prompt, "focus", () => keep(true));
  on(prompt, "blur", () => prompt.isConnected && keep(false)); // (not when the drawing is taken away)
  on(prompt, "keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) (e.preventDefault(), submit());
  });
  on(send, "click", submit);
  on(clear, "click", () => model.send({ t: "clear" }));
  on(exMd, "click", () => model.send({ t: "export", format: "md" }));
  on(exJs, "click", () => model.send({ t: "export", format: "json" }));
  on(finish, "click", () => model.send({ t: "finish" }));
  const onMsg = (m) => {
    // A message the kernel could not send: back into the prompt box, unless a new one is being typed.
    if (m && m.t === "unsent" && typeof m.text == "string" && !prompt.value.trim()) {
      prompt.value = m.text;
      keep(document.activeElement === prompt);
    }
    if (m && m.t === "export" && typeof m.text == "string")
      download(m.filename || "chat." + m.format, m.text, m.format === "json" ? "application/json" : "text/markdown");
  };
  const keys = ["model", "caps", "enable_thinking", "thinking_budget", "effort", "preserve_thinking", "region", "base_url",
    "system", "busy", "notice", "totals", "turns"];
  const offs = [["msg:custom", onMsg], ...keys.map((k) => ["change:" + k, paint])];
  for (const [n, f] of offs) model.on(n, f);
  paint();
  const unfollow = follow(el, uid);
  return () => {
    for (const [n, f] of offs) model.off(n, f);
    unfollow();
    root.remove();
  };
}

export default { render };
