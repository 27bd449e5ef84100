// thinkbook ComparePanel summary (anywidget, no build step). The columns are ThinkViews rendered by
// JupyterLab in a grid; this widget draws the summary table once every column has finished, and
// carries the columns' batched deltas: {t: "D", d: {channel: delta}} goes to each column's views.
const L = {
  en: { caption: "Comparison", label: "Configuration", status: "Status", ttft: "First token", think: "Thinking",
    rtok: "Reasoning tokens", atok: "Answer tokens", total: "Total time", cost: "Cost", chars: "Answer length",
    fastest: "fastest", cheapest: "cheapest", waiting: "Waiting for every column to finish…", copy: "Copy table",
    copied: "Copied", download: "Download markdown", done: "done", error: "error", stopped: "stopped",
    running: "running" },
  zh: { caption: "对比结果", label: "配置", status: "状态", ttft: "首 token", think: "思考用时",
    rtok: "思考 token", atok: "回复 token", total: "总用时", cost: "费用", chars: "回复长度",
    fastest: "最快", cheapest: "最便宜", waiting: "等待所有列完成…", copy: "复制表格", copied: "已复制",
    download: "下载 Markdown", done: "已完成", error: "出错", stopped: "已停止", running: "进行中" },
};
const COLS = [["label", "label"], ["status", "status"], ["time_to_first_token", "ttft"], ["thinking_seconds", "think"],
  ["reasoning_tokens", "rtok"], ["answer_tokens", "atok"], ["total_seconds", "total"], ["cost", "cost"],
  ["answer_chars", "chars"]];
const NF = new Intl.NumberFormat("en-US");
const num = (v) => typeof v === "number" && isFinite(v);

function h(tag, cls, parent, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  if (tag == "button") e.type = "button";
  if (parent) parent.append(e);
  return e;
}

export function cellText(row, key, T) {
  const v = row[key];
  if (key === "status") return (T[v] || v || "") + (row.error ? ": " + row.error : "");
  if (v == null) return "—";
  if (key === "cost") return num(v) ? `${v.toFixed(4)} ${row.currency || ""}`.trim() : String(v);
  if (key.endsWith("seconds") || key === "time_to_first_token") return num(v) ? v.toFixed(2) + "s" : String(v);
  return num(v) ? NF.format(v) : String(v);
}

function render({ model, el }) {
  const get = (k) => model.get(k);
  const T = L[get("lang")] || L.en;
  const root = h("div", "tb-compare-summary", el);
  root.setAttribute("aria-live", "polite");

  function paint() {
    root.textContent = "";
    const rows = get("rows") || [];
    if (!get("finished")) return void (h("div", "tb-note", root, T.waiting).dataset.tb = "waiting");
    const wrap = h("div", "tb-table-wrap", root), table = h("table", "tb-summary", wrap);
    table.dataset.tb = "summary";
    h("caption", "", table, T.caption);
    const hr = h("tr", "", h("thead", "", table));
    for (const [, t] of COLS) h("th", "", hr, T[t]).scope = "col";
    const body = h("tbody", "", table);
    rows.forEach((row, i) => {
      const tr = h("tr", row.status === "error" ? "tb-row-error" : "", body);
      tr.dataset.tb = "row";
      tr.dataset.status = row.status || "";
      COLS.forEach(([key], j) => {
        const cell = h(j ? "td" : "th", "", tr, cellText(row, key, T));
        if (!j) cell.scope = "row";
        // Highlights carry a text badge too: not by colour alone.
        const fast = key === "total_seconds" && get("fastest") === i, cheap = key === "cost" && get("cheapest") === i;
        if (fast || cheap) {
          cell.classList.add("tb-best");
          h("span", "tb-badge", cell, fast ? T.fastest : T.cheapest).dataset.tb = fast ? "fastest" : "cheapest";
        }
      });
    });
    const bar = h("div", "tb-buttons", root), cp = h("button", "tb-btn", bar, T.copy);
    const dl = h("button", "tb-btn", bar, T.download);
    cp.dataset.tb = "copy";
    dl.dataset.tb = "download";
    cp.addEventListener("click", () => {
      try {
        navigator.clipboard.writeText(get("markdown")).then(() => (cp.textContent = T.copied));
      } catch (e) {}
    });
    dl.addEventListener("click", () => {
      const url = URL.createObjectURL(new Blob([get("markdown")], { type: "text/markdown" }));
      const a = h("a", "", document.body);
      a.href = url;
      a.download = "comparison.md";
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    });
  }

  const offs = ["rows", "finished", "fastest", "cheapest", "markdown"].map((k) => ["change:" + k, paint]);
  for (const [n, f] of offs) model.on(n, f);
  paint();
  return () => {
    for (const [n, f] of offs) model.off(n, f);
    root.remove();
  };
}

// Once per model (not per rendered view): every view of a channel gets its delta exactly once.
export function dispatch(m) {
  const hub = globalThis.__TB_HUB__;
  if (!m || m.t !== "D" || !m.d || !hub) return;
  for (const ch in m.d) for (const f of hub.get(ch) || []) f(m.d[ch]);
}

function initialize({ model }) {
  model.on("msg:custom", dispatch);
  return () => model.off("msg:custom", dispatch);
}

export default { initialize, render };
