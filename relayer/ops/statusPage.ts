// The operator's status page (GET /): one self-contained HTML document, its style and script inline
// and pinned by hash in a strict Content-Security-Policy (no external URL, no inline handler, no
// eval). Its script (statusPageScript.ts) reads GET /overview every few seconds and the explorer's
// GET /messages/:id on a search, and posts the operator's actions with the token typed into it.
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { STATUS_PAGE_SCRIPT } from './statusPageScript.js';

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #5b636e; --bg: #f6f7f9; --card: #fff; --line: #d8dde3;
  --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --accent: #0969da; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --card: #161b22; --line: #30363d;
  --ok: #3fb950; --warn: #d29922; --bad: #f85149; --accent: #4493f8; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { position: sticky; top: 0; z-index: 1; display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center;
  padding: 10px 16px; background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { font-size: 18px; margin: 0; }
#freshness { font-size: 13px; color: var(--muted); }
#freshness.error { color: var(--bad); font-weight: 600; }
.controls { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-left: auto; }
.controls label { color: var(--muted); font-size: 12px; }
input, button { font: inherit; color: inherit; }
input { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 4px 8px; }
button { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 3px 10px; cursor: pointer; }
button:hover { border-color: var(--accent); }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { color: var(--bad); }
button.link { border: 0; background: none; padding: 0; color: var(--accent); font-family: ui-monospace, monospace; font-size: 12px; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 14px; padding: 14px 16px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 0; overflow-x: auto; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 15px; margin: 2px 0 8px; }
h3 { font-size: 14px; margin: 12px 0 4px; }
h4 { font-size: 13px; margin: 10px 0 2px; color: var(--muted); }
.count { color: var(--muted); font-weight: 400; }
.hint, .empty { color: var(--muted); font-size: 12px; margin: 4px 0; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th { text-align: left; color: var(--muted); font-weight: 500; border-bottom: 1px solid var(--line); padding: 3px 8px 3px 0; white-space: nowrap; }
td { border-bottom: 1px solid var(--line); padding: 4px 8px 4px 0; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; word-break: break-all; }
.reason { max-width: 46ch; overflow-wrap: anywhere; }
.badge { display: inline-block; border-radius: 10px; padding: 0 7px; font-size: 12px; border: 1px solid var(--line); white-space: nowrap; }
.badge.ok { color: var(--ok); border-color: var(--ok); }
.badge.warn { color: var(--warn); border-color: var(--warn); }
.badge.bad { color: var(--bad); border-color: var(--bad); }
#search { display: flex; gap: 6px; }
#q { flex: 1; min-width: 0; font-family: ui-monospace, monospace; }
#notice { width: 100%; margin: 0; font-size: 13px; }
#notice:empty, #action-status:empty { display: none; }
#action-status { grid-column: 1 / -1; padding: 8px 12px; border-radius: 8px; border: 1px solid var(--line); background: var(--card); }
#action-status.ok { border-color: var(--ok); color: var(--ok); }
#action-status.error { border-color: var(--bad); color: var(--bad); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 0; font-size: 13px; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.report { border-top: 1px solid var(--line); margin-top: 10px; padding-top: 6px; }
.actions { display: flex; gap: 6px; flex-wrap: wrap; }
body.stale main { opacity: 0.6; }
`;

const HTML = (style: string, script: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>isorelay status</title>
<link rel="icon" href="data:,">
<style>${style}</style>
</head>
<body>
<header>
  <h1>isorelay</h1>
  <span id="instance" class="mono"></span>
  <span id="freshness" role="status" aria-live="polite">loading…</span>
  <div class="controls">
    <label for="token">action token</label>
    <input id="token" type="password" autocomplete="off" spellcheck="false" placeholder="paste the ops token to act" size="22">
    <button id="forget" type="button" title="forget the token (it is kept in this tab only)">forget</button>
    <label for="reason">reason</label>
    <input id="reason" type="text" maxlength="500" placeholder="optional, kept with it" size="18">
  </div>
  <p id="notice"></p>
</header>
<main>
  <section id="search-panel" class="wide">
    <h2>Find a message</h2>
    <form id="search" role="search">
      <input id="q" type="search" autocomplete="off" spellcheck="false" aria-label="message id" placeholder="store id, LayerZero guid, Wormhole VAA id, lockId or source transaction">
      <button type="submit" class="primary">Find</button>
    </form>
    <div id="result" aria-live="polite"></div>
  </section>
  <div id="action-status" role="status" aria-live="assertive"></div>
  <section id="held-panel"><h2>Held for an operator <span id="held-count" class="count"></span></h2><div id="held"></div></section>
  <section id="stuck-panel"><h2>Stuck <span id="stuck-count" class="count"></span></h2><p class="hint">Not delivered within their route's expected delivery time, with why.</p><div id="stuck"></div></section>
  <section id="routes-panel" class="wide"><h2>Routes</h2><div id="routes"></div></section>
  <section id="chains-panel"><h2>Chains</h2><div id="chains"></div></section>
  <section id="keeper-panel"><h2>Keeper</h2><div id="keeper"></div></section>
  <section id="pending-panel" class="wide"><h2>On their way <span id="pending-count" class="count"></span></h2><div id="pending"></div></section>
  <section id="recent-panel" class="wide"><h2>Recent deliveries</h2><div id="recent"></div></section>
</main>
<script>${script}</script>
</body>
</html>
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The page, and the only script and style it may run: anything injected into it would not. */
export const STATUS_PAGE_HTML = HTML(STYLE, STATUS_PAGE_SCRIPT);
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(STATUS_PAGE_SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function sendStatusPage(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': STATUS_PAGE_CSP,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  });
  res.end(STATUS_PAGE_HTML);
}
