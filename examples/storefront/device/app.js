// The "keep my data on this device" page: the person's preferences,
// feedback and history live in localStorage, and the wasm ranker (Go's
// recommend/ondevice) ranks over the model the shop ships. Nothing here
// sends any of it to the shop: the only requests are GETs of the page, the
// ranker, the model, the settings and the consent decisions.
'use strict';
(() => {
  const KEY = 'tact.device';
  const MAX_EVENTS = 500;
  const fresh = () => ({
    on: false,
    profile: { Preferences: { Interests: [], Avoid: [], MaxPrice: 0, Sizes: [] }, Feedback: [], History: [] },
    firstSeen: null, lastSeen: null, visitStart: null, visits: 0,
  });
  const $ = (id) => document.getElementById(id);
  let state = load();
  let consent = null;
  let ready = null;
  let context = {};

  function load() {
    try {
      return Object.assign(fresh(), JSON.parse(localStorage.getItem(KEY)) || {});
    } catch {
      return fresh();
    }
  }
  function save() { localStorage.setItem(KEY, JSON.stringify(state)); }
  const now = () => new Date().toISOString();

  // The mode cookie is a flag for the shop's own pages (they then send the
  // browser here and take no personal data from it); it carries no data.
  function setMode(on) {
    state.on = on;
    document.cookie = 'tact_device=' + (on ? '1; Max-Age=31536000' : '; Max-Age=0') + '; Path=/; SameSite=Strict';
    save();
    show();
  }

  // start loads the ranker, the model, the settings and the decisions once.
  function start() {
    if (!ready) {
      ready = (async () => {
        const t0 = performance.now();
        const go = new Go();
        const get = (url) => fetch(url, { credentials: 'same-origin' }).then((r) => {
          if (!r.ok) throw new Error(url + ': ' + r.status);
          return r;
        });
        const [inst, model, c, settings] = await Promise.all([
          WebAssembly.instantiateStreaming(get('/device/tact.wasm'), go.importObject),
          get('/device/model').then((r) => r.arrayBuffer()),
          get('/device/consent').then((r) => r.text()),
          get('/device/settings').then((r) => r.text()),
        ]);
        go.run(inst.instance);
        const out = JSON.parse(tact.load(new Uint8Array(model), c, settings));
        if (out.error) throw new Error(out.error);
        consent = JSON.parse(c);
        window.tactLoadMs = performance.now() - t0;
      })();
    }
    return ready;
  }

  // visit counts a visit as the shop would: a new one after 30 minutes away.
  function visit() {
    const t = Date.now();
    if (!state.firstSeen) state.firstSeen = new Date(t).toISOString();
    if (!state.lastSeen || t - Date.parse(state.lastSeen) > 30 * 60e3) {
      state.visits++;
      state.visitStart = new Date(t).toISOString();
    }
    state.lastSeen = new Date(t).toISOString();
    save();
  }

  function query(k) {
    const orders = state.profile.History.filter((e) => (e.Kind || 0) === 0).length;
    return {
      profile: state.profile,
      request: {
        Subject: consent.subject, At: now(), K: k || 8, Context: context,
        Relationship: { Known: consent.known, FirstSeen: state.firstSeen, Visits: state.visits, Orders: orders },
        VisitStart: state.visitStart,
      },
    };
  }

  function rank() {
    const q = query();
    const out = JSON.parse(tact.rank(JSON.stringify(q)));
    window.tactLast = { query: q, result: out };
    render(out);
  }

  // words shows a catalog key as words ("energy-gels" as "energy gels").
  function words(key) {
    return (key || '').replace(/[-_]+/g, ' ');
  }

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function render(out) {
    if (out.error) {
      $('status').textContent = out.error;
      return;
    }
    $('tier').textContent = out.tier;
    const recs = $('recs');
    recs.replaceChildren();
    for (const it of out.items) {
      const li = el('li', undefined, 'rec');
      li.dataset.item = it.id;
      li.append(el('strong', it.title), el('span', ' · ' + words(it.category) + (it.price ? ' · ' + it.price.toFixed(2) : ''), 'hint'));
      const why = el('details', undefined, 'why');
      why.append(el('summary', 'Why am I seeing this?'));
      const ul = el('ul');
      for (const r of it.reasons || []) {
        const rl = el('li', r.text, 'reason');
        rl.append(el('span', ' (' + (r.data_text ? 'data used: ' + r.data_text : 'no personal data') + ')', 'hint data'));
        ul.append(rl);
      }
      why.append(ul);
      li.append(why);
      for (const [act, label] of [['view', 'View'], ['like', 'More like this'], ['hide', 'Not interested'], ['buy', 'Buy']]) {
        const b = el('button', label);
        b.type = 'button';
        b.dataset.act = act;
        b.addEventListener('click', () => act_(act, it.id));
        li.append(b);
      }
      recs.append(li);
    }
    const used = $('used');
    used.replaceChildren(...(out.used_text && out.used_text.length ? out.used_text.map((c) => el('li', c)) : [el('li', 'Nothing personal')]));
    $('withheld').replaceChildren(...(out.withheld || []).map((w) => el('li', w.text + (w.error ? ' (' + w.error + ')' : ''))));
    $('local').textContent = JSON.stringify(state.profile, null, 1);
  }

  function act_(act, id) {
    const p = state.profile;
    const push = (list, e) => { list.push(e); list.splice(0, Math.max(0, list.length - MAX_EVENTS)); };
    switch (act) {
      case 'view': push(p.History, { Item: id, Kind: 1, At: now() }); context = { Item: id }; break;
      case 'like': push(p.Feedback, { Item: id, Kind: 1, At: now() }); break;
      case 'hide': push(p.Feedback, { Item: id, Kind: 2, At: now() }); break;
      case 'buy': push(p.History, { Item: id, Kind: 0, At: now() }); $('status').textContent = 'Bought (kept on this device only).'; break;
    }
    save();
    rank();
  }

  function savePrefs(ev) {
    ev.preventDefault();
    const prefs = state.profile.Preferences;
    const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
    const tag = $('interest').value.trim().toLowerCase();
    if (tag && !prefs.Interests.some((i) => i.Tags[0] === tag)) {
      prefs.Interests.push({ Text: 'you like ' + tag, Tags: [tag] });
    }
    prefs.MaxPrice = Number($('budget').value) || 0;
    prefs.Avoid = list($('avoid').value);
    prefs.Sizes = list($('sizes').value);
    save();
    $('status').textContent = 'Saved on this device.';
    rank();
  }

  async function show() {
    $('mode-on').hidden = state.on;
    $('mode-off').hidden = !state.on;
    $('shop').hidden = !state.on;
    if (!state.on) {
      $('mode-state').textContent = 'Off: the shop keeps your preferences, feedback and orders, as its pages say.';
      return;
    }
    document.cookie = 'tact_device=1; Max-Age=31536000; Path=/; SameSite=Strict';
    $('mode-state').textContent = 'On: your preferences, feedback and history stay in this browser.';
    try {
      await start();
      visit();
      rank();
    } catch (e) {
      $('status').textContent = 'The on-device ranker is not available: ' + e.message;
    }
  }

  // tactBench times n rankings of the current profile (performance.now),
  // for the latency the tests report.
  window.tactBench = async (n) => {
    await start();
    const q = JSON.stringify(query(10));
    const times = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const out = tact.rank(q);
      times.push(performance.now() - t0);
      if (i === 0 && JSON.parse(out).error) throw new Error(out);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    return { n, first: times[0], median: at(0.5), p95: at(0.95), mean: times.reduce((a, b) => a + b, 0) / n };
  };

  $('mode-on').addEventListener('click', () => setMode(true));
  $('mode-off').addEventListener('click', () => setMode(false));
  $('prefs').addEventListener('submit', savePrefs);
  $('forget').addEventListener('click', () => {
    const on = state.on;
    state = fresh();
    state.on = on;
    save();
    show();
  });
  show();
})();
