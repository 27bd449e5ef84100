// Test doubles shared by the view tests: an anywidget-like model.

export const COUNTERS0 = {
  exact: false,
  usage: null,
  estimate: { reasoning_tokens: 0, answer_tokens: 0 },
  timings: { time_to_first_token: null, thinking_seconds: null, total_seconds: null, tokens_per_second: null, elapsed: null },
  cost: null,
};

export function fakeModel(traits = {}) {
  const state = {
    header: { model: "qwen-plus", thinking: true, budget: null, lang: "en", replay: null },
    status: "waiting",
    error: "",
    reasoning: "",
    answer_html: "",
    answer_markdown: "",
    seq: 0,
    counters: COUNTERS0,
    can_stop: true,
    ...traits,
  };
  const listeners = new Map();
  const model = {
    sent: [],
    get: (k) => state[k],
    on(name, cb) {
      if (!listeners.has(name)) listeners.set(name, new Set());
      listeners.get(name).add(cb);
    },
    off(name, cb) {
      listeners.get(name)?.delete(cb);
    },
    send(content) {
      model.sent.push(content);
    },
    // Like Backbone: set every attribute first, then fire change:<name> for each.
    set(values) {
      Object.assign(state, values);
      for (const k of Object.keys(values)) for (const cb of [...(listeners.get("change:" + k) || [])]) cb();
    },
    msg(content) {
      for (const cb of [...(listeners.get("msg:custom") || [])]) cb(content, []);
    },
    listenerCount: () => [...listeners.values()].reduce((n, s) => n + s.size, 0),
  };
  return model;
}

