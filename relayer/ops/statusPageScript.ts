// The status page's script, sent inline (its hash is in the page's Content-Security-Policy). Plain
// JavaScript for the browser, no framework. Every piece of data (ids, reasons, errors: an attacker
// writes message payloads and revert reasons) goes into the page as text — textContent, text
// nodes, setAttribute on fixed harmless names — never as HTML. The operator's token stays in this
// tab's sessionStorage and the Authorization header, never in a URL.
// Kept as String.raw text: no backtick and no dollar-brace inside.
export const STATUS_PAGE_SCRIPT = String.raw`
'use strict';
(() => {
  const REFRESH_MS = 3000;
  const TIMEOUT_MS = 5000;
  const TOKEN_KEY = 'isorelay.opsToken';
  const MOVING_EXCLUDED = new Set(['delivered', 'dead', 'orphaned', 'held']);
  const byId = (id) => document.getElementById(id);
  const tokenInput = byId('token');
  const reasonInput = byId('reason');
  const qInput = byId('q');
  const resultBox = byId('result');
  const actionStatus = byId('action-status');
  const freshness = byId('freshness');

  // ---- building the page from text only ----
  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'onclick') e.addEventListener('click', v);
      else e.setAttribute(k, String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  const td = (content, cls) => h('td', cls ? { class: cls } : {}, content);
  /** A table; a header written '#name' heads a column of numbers (aligned right). */
  function table(headers, rows, empty) {
    if (rows.length === 0) return h('p', { class: 'empty' }, empty);
    const th = (x) => (x.startsWith('#') ? h('th', { class: 'num' }, x.slice(1)) : h('th', {}, x));
    return h('table', {}, h('thead', {}, h('tr', {}, headers.map(th))), h('tbody', {}, rows));
  }
  const pad = (n) => String(n).padStart(2, '0');
  function age(ms) {
    if (ms === null || ms === undefined) return '-';
    const s = Math.floor(ms / 1000);
    if (s < 60) return s + 's';
    const m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + pad(s % 60) + 's';
    const hours = Math.floor(m / 60);
    if (hours < 48) return hours + 'h ' + pad(m % 60) + 'm';
    return Math.floor(hours / 24) + 'd ' + pad(hours % 24) + 'h';
  }
  const latency = (ms) => (ms < 10000 ? (ms / 1000).toFixed(1) + 's' : age(ms));
  const when = (ms) => (ms === null || ms === undefined ? '-' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'));
  const blockNo = (b) => (b === null || b === undefined ? '-' : String(b));
  /** A 1e18 fixed-point decimal string as a number with two decimals, grouped. */
  function wad(value) {
    if (value === null || value === undefined) return '-';
    const v = BigInt(value);
    const a = v < 0n ? -v : v;
    const cents = a / 10n ** 16n;
    return (v < 0n ? '-' : '') + (cents / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',') + '.' + pad(Number(cents % 100n));
  }
  const shortId = (id) => (id.length > 34 ? id.slice(0, 22) + '…' + id.slice(-8) : id);
  function statusBadge(status) {
    const cls = status === 'delivered' ? 'ok' : status === 'dead' || status === 'orphaned' ? 'bad' : status === 'held' || status === 'failed' || status === 'waiting' ? 'warn' : '';
    return h('span', { class: 'badge ' + cls }, status);
  }
  /** An id that looks the message up when clicked. */
  const idLink = (id) => h('button', { type: 'button', class: 'link', title: 'look up ' + id, 'data-id': id, onclick: () => void search(id) }, shortId(id));
  const describe = (e) => (e && e.name === 'AbortError' ? 'no answer within ' + TIMEOUT_MS / 1000 + ' s' : e && e.message ? e.message : String(e));

  // ---- the token: this tab only ----
  function storedToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }
  function storeToken(t) {
    try { if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage disabled: the field still works */ }
  }
  const token = () => tokenInput.value.trim();

  // ---- talking to the daemon ----
  async function fetchJson(url, init) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    try {
      const res = await fetch(url, Object.assign({ cache: 'no-store', signal: ctl.signal }, init || {}));
      let body = null;
      try { body = await res.json(); } catch (e) { body = null; }
      return { ok: res.ok, status: res.status, body };
    } finally {
      clearTimeout(timer);
    }
  }

  function showAction(kind, text) {
    actionStatus.className = kind;
    actionStatus.textContent = text;
  }

  async function act(id, action, button) {
    const t = token();
    if (t === '') { showAction('error', 'Paste the ops token first (the value of the variable ops.actionTokenEnv names).'); return; }
    if (action === 'reject' && !window.confirm('Reject ' + id + '? It becomes dead and is never delivered.')) return;
    const why = reasonInput.value.trim();
    if (button) button.disabled = true;
    try {
      const res = await fetchJson('messages/' + encodeURIComponent(id) + '/' + action, {
        method: 'POST',
        headers: { authorization: 'Bearer ' + t, 'content-type': 'application/json' },
        body: why === '' ? '' : JSON.stringify({ reason: why }),
      });
      const err = res.body && typeof res.body.error === 'string' ? res.body.error : null;
      if (res.ok) showAction('ok', res.body && typeof res.body.message === 'string' ? res.body.message : action + ': done');
      else if (res.status === 401) showAction('error', '401 Unauthorized: the daemon refused this token (wrong or missing token). Nothing was done.');
      else if (res.status === 403) showAction('error', '403 Forbidden: ' + (err || 'this server is read-only') + '. Nothing was done.');
      else showAction('error', res.status + ': ' + (err || 'the action failed'));
    } catch (e) {
      showAction('error', 'The daemon did not answer: ' + describe(e));
    } finally {
      if (button) button.disabled = false;
    }
    await refresh();
    if (currentQuery !== null) await search(currentQuery);
  }

  function actionButtons(m) {
    const actionable = m.status === 'held' || m.status === 'failed' || m.status === 'waiting';
    if (!actionable) return null;
    if (token() === '') return h('span', { class: 'hint' }, 'token needed');
    const b = (label, action, cls) => {
      const button = h('button', { type: 'button', class: cls, 'data-action': action, 'data-id': m.id }, label);
      button.addEventListener('click', () => void act(m.id, action, button));
      return button;
    };
    if (m.status === 'held') return h('span', { class: 'actions' }, b('Release', 'release', 'primary'), b('Reject', 'reject', 'danger'));
    if (m.status === 'failed' || m.status === 'waiting') return h('span', { class: 'actions' }, b('Retry now', 'retry', ''));
    return null;
  }

  // ---- the explorer ----
  let currentQuery = null;
  let lastReports = null;
  async function search(q) {
    q = String(q).trim();
    if (q === '') return;
    currentQuery = q;
    qInput.value = q;
    try { history.replaceState(null, '', '#' + encodeURIComponent(q)); } catch (e) { /* not important */ }
    try {
      const res = await fetchJson('messages/' + encodeURIComponent(q));
      if (q !== currentQuery) return;
      if (res.status === 404) { lastReports = null; resultBox.replaceChildren(h('p', { class: 'empty' }, 'No message known by ' + q + '.')); return; }
      if (!res.ok || !Array.isArray(res.body)) throw new Error('HTTP ' + res.status + (res.body && res.body.error ? ': ' + res.body.error : ''));
      lastReports = res.body;
      renderReports();
    } catch (e) {
      resultBox.replaceChildren(h('p', { class: 'empty' }, 'Could not look up ' + q + ': ' + describe(e)));
    }
  }
  function renderReports() {
    if (lastReports !== null) resultBox.replaceChildren(...lastReports.map(renderReport));
  }
  function truthLine(t, kind) {
    if (t === undefined || t === null) return 'not read';
    if ('error' in t) return 'cannot tell (' + t.error + ')';
    if (kind === 'source') return t.found ? 'in block ' + (t.block || '?') + ', ' + (t.ok ? 'succeeded' : 'failed') : 'no such transaction';
    return t.executed === null ? 'not a message of ours to ask about' : t.executed ? 'executed (' + (t.contract || '?') + ')' : 'not executed yet';
  }
  function renderReport(r) {
    const m = r.row;
    const dl = (pairs) => h('dl', {}, pairs.filter((p) => p[1] !== null && p[1] !== undefined).map((p) => [h('dt', {}, p[0]), h('dd', {}, p[1])]));
    return h('article', { class: 'report', 'data-id': m.id },
      h('h3', {}, (m.kind || '?') + ' on ' + m.route + ' ', statusBadge(m.status), m.holdCode ? [' ', h('span', { class: 'badge warn' }, m.holdCode)] : null),
      dl([
        ['id', h('span', { class: 'mono' }, m.id)],
        ['message id', m.messageId === null ? null : h('span', { class: 'mono' }, m.messageId)],
        ['transport id', h('span', { class: 'mono' }, m.transport + ' ' + m.transportId)],
        ['source', h('span', { class: 'mono' }, m.srcChain + ' tx ' + m.srcTx + ' block ' + m.srcBlock)],
        ['destination', h('span', { class: 'mono' }, m.dstChain + (m.dstTx ? ' tx ' + m.dstTx : ''))],
        ['attempts', String(m.attempts)],
        ['last reason', m.lastError],
        ['observed', when(m.observedAt)],
        ['delivered', m.deliveredAt === null ? null : when(m.deliveredAt) + ' (' + latency(m.deliveredAt - m.observedAt) + ' after it was observed)'],
      ]),
      h('h4', {}, 'Timeline'),
      table(['at', 'move', 'why', 'tx', 'by'], r.history.map((e) => h('tr', {},
        td(when(e.at)), td((e.from || '∅') + ' → ' + e.to), td(e.reason || '', 'reason'), td(e.tx || '', 'mono'), td(e.by || '', 'mono'))), 'No history recorded.'),
      h('h4', {}, 'Transactions'),
      table(['hash', 'chain', '#nonce', 'purpose', 'status'], r.transactions.map((t) => h('tr', {},
        td(t.hash, 'mono'), td(t.chain), td(String(t.nonce), 'num'), td(t.purpose), td(t.status))), 'No transaction signed for it.'),
      h('h4', {}, 'On chain now'),
      r.onChain ? dl([['source', truthLine(r.onChain.source, 'source')], ['destination', truthLine(r.onChain.destination, 'destination')]]) : h('p', { class: 'empty' }, 'Not read.'),
      h('p', {}, h('strong', {}, 'Next: '), r.next),
      actionButtons(m));
  }

  // ---- the overview ----
  let data = null;
  let lastOkAt = null;
  let lastError = null;

  function render() {
    const o = data;
    if (o === null) return;
    if (o.starting) {
      byId('notice').textContent = 'The relayer is starting: ' + o.starting;
      return;
    }
    byId('instance').textContent = 'instance ' + o.instance.owner + (o.instance.storeError ? ' (store unavailable: ' + o.instance.storeError + ')' : '');
    byId('notice').textContent = !o.actions
      ? 'Read-only: this daemon takes no actions (start it with ops.actionTokenEnv set); a button answers 403.'
      : token() === '' ? 'Paste the ops token above to release, reject or retry messages.' : '';
    renderHeld(o);
    renderStuck(o);
    renderRoutes(o);
    renderChains(o);
    renderKeeper(o);
    renderPending(o);
    renderRecent(o);
  }

  function renderHeld(o) {
    byId('held-count').textContent = '(' + o.held.total + ')';
    byId('held').replaceChildren(table(['message', 'kind', 'route', 'hold', 'reason', '#held for', '#observed', ''],
      o.held.messages.map((m) => h('tr', { 'data-id': m.id },
        td(idLink(m.id)), td(m.kind || '?'), td(m.route), td(h('span', { class: 'badge warn' }, m.holdCode || '?')),
        td(m.reason || '', 'reason'), td(age(m.heldForMs), 'num'), td(age(m.ageMs) + ' ago', 'num'), td(actionButtons(m)))),
      'Nothing is held.'));
  }

  function renderStuck(o) {
    const s = o.stuck;
    byId('stuck-count').textContent = '(' + s.total + (s.total > s.messages.length ? ', the oldest ' + s.messages.length + ' shown' : '') + ')';
    const byReason = s.counts.filter((c) => c.n > 0).map((c) => c.route + ' ' + c.reason + ' ' + c.n).join(', ');
    byId('stuck').replaceChildren(
      byReason ? h('p', { class: 'hint' }, 'By route and reason: ' + byReason) : null,
      table(['message', 'route', 'status', 'reason', '#age', '#expected'],
        s.messages.map((m) => h('tr', { 'data-id': m.id },
          td(idLink(m.id)), td(m.route), td(statusBadge(m.status)), td([h('span', { class: 'badge warn' }, m.reason), m.detail ? ' ' + m.detail : ''], 'reason'),
          td(age(m.ageMs), 'num'), td(age(m.expectedMs), 'num'))),
        'Nothing is stuck.'));
  }

  function renderRoutes(o) {
    byId('routes').replaceChildren(table(['route', 'path', 'state', '#on their way', '#held', '#delivered', '#dead', '#orphaned', '#oldest on its way', '#scanned to'],
      o.routes.map((r) => {
        const moving = Object.entries(r.counts).filter(([s]) => !MOVING_EXCLUDED.has(s));
        const n = moving.reduce((sum, [, c]) => sum + c, 0);
        const detail = moving.filter(([, c]) => c > 0).map(([s, c]) => s + ' ' + c).join(', ');
        const state = r.halted !== null ? h('span', { class: 'badge bad', title: r.halted }, 'halted')
          : r.paused ? h('span', { class: 'badge warn' }, 'paused') : r.source === null ? h('span', { class: 'badge' }, 'not in config') : h('span', { class: 'badge ok' }, 'relaying');
        const late = r.oldestPendingAgeMs !== null && r.expectedMs !== null && r.oldestPendingAgeMs > r.expectedMs;
        return h('tr', { 'data-route': r.route },
          td(r.route), td((r.source || '?') + ' → ' + (r.destination || '?') + (r.transport ? ' (' + r.transport + ')' : '')), td([state, r.halted ? [' ', r.halted] : null]),
          td(String(n) + (detail ? ' (' + detail + ')' : ''), 'num'), td(String(r.counts.held || 0), 'num'), td(String(r.counts.delivered || 0), 'num'),
          td(String(r.counts.dead || 0), 'num'), td(String(r.counts.orphaned || 0), 'num'),
          td(late ? h('span', { class: 'badge bad' }, age(r.oldestPendingAgeMs)) : age(r.oldestPendingAgeMs), 'num'), td(blockNo(r.scanned), 'num'));
      }), 'No route.'));
  }

  function renderChains(o) {
    byId('chains').replaceChildren(table(['chain', '#id', '#latest', '#finalized', '#scanned', '#behind', '#polled', 'error'],
      o.chains.map((c) => {
        const behind = c.latest !== null && c.scanned !== null ? BigInt(c.latest) - BigInt(c.scanned) : null;
        return h('tr', { 'data-chain': c.chain },
          td(c.chain), td(String(c.chainId), 'num'), td(blockNo(c.latest), 'num'), td(blockNo(c.finalized), 'num'), td(blockNo(c.scanned), 'num'),
          td(behind === null ? '-' : String(behind < 0n ? 0n : behind), 'num'), td(c.lastPollAgeMs === null ? 'not yet' : age(c.lastPollAgeMs) + ' ago', 'num'),
          td(c.lastError || '', 'reason'));
      }), 'No chain.'));
  }

  function renderKeeper(o) {
    const k = o.keeper;
    const box = byId('keeper');
    if (k === null) { box.replaceChildren(h('p', { class: 'empty' }, 'The keeper is not enabled in this daemon\'s config.')); return; }
    const parts = [h('p', { class: 'hint' }, 'On ' + k.chain + '. ' + (k.running ? 'This instance runs it.' : 'This instance does not hold the keeper\'s lease: another instance runs it (or none yet).'))];
    if (k.lastFailure) parts.push(h('p', {}, h('span', { class: 'badge bad' }, 'last tick failed'), ' ' + age(o.generatedAt - k.lastFailure.at) + ' ago: ' + k.lastFailure.error));
    if (k.markets.length === 0) parts.push(h('p', { class: 'empty' }, 'No tick yet.'));
    for (const m of k.markets) {
      parts.push(h('h3', { 'data-market': m.market }, m.market + ' ', m.ok ? h('span', { class: 'badge ok' }, wad(m.median)) : h('span', { class: 'badge bad' }, 'no price')));
      parts.push(h('p', { class: 'hint' }, m.ok ? 'agreeing range ' + wad(m.low) + ' – ' + wad(m.high) + '; ' : 'nobody can be liquidated: ' + m.reason + '; ',
        m.indexed + ' positions watched, ' + m.candidates + ' near the line, ' + m.liquidated + ' liquidated; read ' + age(o.generatedAt - m.at) + ' ago'));
      // Options: the market's σ on the engine, its strategies, those expired and waiting for a settlement.
      if (m.sigma !== null && m.sigma !== undefined)
        parts.push(h('p', { class: 'hint', 'data-options': m.market }, 'options: σ ' + wad(BigInt(m.sigma) * 100n) + ' %; ' + m.strategies + ' strategies open, ',
          m.strategiesDue > 0 ? h('span', { class: 'badge warn' }, m.strategiesDue + ' expired, not settled') : '0 expired', ', ' + m.strategiesSettled + ' settled by the last tick'));
      parts.push(table(['chain', '#price', 'used', 'why not'], m.chains.map((c) => h('tr', { 'data-chain': c.chain },
        td(c.chain), td(wad(c.price), 'num'), td(c.used ? h('span', { class: 'badge ok' }, 'used') : h('span', { class: 'badge warn' }, 'excluded')),
        td(c.excluded ? c.excluded.reason + ': ' + c.excluded.detail : '', 'reason'))), 'No chain read.'));
    }
    box.replaceChildren(...parts);
  }

  function renderPending(o) {
    byId('pending-count').textContent = '(' + o.pending.total + (o.pending.total > o.pending.messages.length ? ', the oldest ' + o.pending.messages.length + ' shown' : '') + ')';
    byId('pending').replaceChildren(table(['message', 'route', 'kind', 'status', '#attempts', 'reason', '#age', '#next try', ''],
      o.pending.messages.map((m) => h('tr', { 'data-id': m.id },
        td(idLink(m.id)), td(m.route), td(m.kind || '?'), td([statusBadge(m.status), m.resumeStatus && (m.status === 'failed' || m.status === 'waiting') ? ' → ' + m.resumeStatus : '']),
        td(String(m.attempts), 'num'), td((m.reasonCode ? m.reasonCode + ': ' : '') + (m.reason || ''), 'reason'), td(age(m.ageMs), 'num'),
        td(m.nextAttemptInMs === null ? '' : m.nextAttemptInMs === 0 ? 'due' : 'in ' + age(m.nextAttemptInMs), 'num'), td(actionButtons(m)))),
      'Nothing on its way.'));
  }

  function renderRecent(o) {
    byId('recent').replaceChildren(table(['message', 'route', 'kind', 'delivered', '#latency', 'destination tx'],
      o.recent.map((m) => h('tr', { 'data-id': m.id },
        td(idLink(m.id)), td(m.route), td(m.kind || '?'), td(when(m.deliveredAt)), td(latency(m.latencyMs), 'num'), td(m.dstTx || '', 'mono'))),
      'No delivery yet.'));
  }

  // ---- live refresh ----
  function showFreshness() {
    const since = lastOkAt === null ? null : Math.round((Date.now() - lastOkAt) / 1000);
    if (lastError !== null) {
      freshness.className = 'error';
      freshness.textContent = 'the daemon is not answering (' + lastError + ')' + (since === null ? '' : '; last update ' + since + 's ago');
    } else {
      freshness.className = '';
      freshness.textContent = since === null ? 'loading…' : 'updated ' + since + 's ago';
    }
    document.body.classList.toggle('stale', lastError !== null);
  }
  async function refresh() {
    try {
      const res = await fetchJson('overview');
      if (!res.ok || res.body === null) throw new Error('HTTP ' + res.status + (res.body && res.body.error ? ': ' + res.body.error : ''));
      data = res.body;
      lastOkAt = Date.now();
      lastError = null;
      render();
    } catch (e) {
      lastError = describe(e);
    }
    showFreshness();
  }
  function loop() {
    void refresh().finally(() => setTimeout(loop, REFRESH_MS));
  }

  // ---- wiring ----
  tokenInput.value = storedToken();
  tokenInput.addEventListener('input', () => { storeToken(token()); render(); renderReports(); });
  byId('forget').addEventListener('click', () => { tokenInput.value = ''; storeToken(''); render(); renderReports(); });
  byId('search').addEventListener('submit', (e) => { e.preventDefault(); void search(qInput.value); });
  setInterval(showFreshness, 1000);
  loop();
  if (location.hash.length > 1) {
    try { void search(decodeURIComponent(location.hash.slice(1))); } catch (e) { /* a malformed hash: ignore */ }
  }
})();
`;
