// The fleet page's three files, served by page-server.ts and nothing else: no framework, no
// font, no CDN, so the page works on a LAN with no internet. The script builds every element
// with textContent (never innerHTML), since device ids and values come from other devices.
//
// How it stays live: it loads /v1/fleet, then reads /v1/watch as server-sent events through
// fetch (so the token travels in a header, never in a URL a log could keep). A member event
// changes that device's status at once; any event, and a slow tick for the ages and the LEDs,
// fetches /v1/fleet again (coalesced, so a burst of events is one request).

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>murmur fleet</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/page.css">
<script src="/page.js" defer></script>
</head>
<body>
<header>
  <h1>murmur <span id="fleet"></span></h1>
  <div id="self"></div>
  <div id="conn" class="conn">connecting…</div>
</header>
<main>
  <form id="login" hidden>
    <p id="login-why">This page needs the fleet page token (http.tokenFile on the serving device).</p>
    <input id="token" type="password" autocomplete="off" placeholder="token">
    <button type="submit">Open</button>
  </form>
  <section id="alerts"></section>
  <section>
    <h2>Fleet</h2>
    <div class="scroll"><table id="aggregates"><thead><tr><th>quantity</th><th>mean</th><th>min – max</th></tr></thead><tbody></tbody></table></div>
  </section>
  <section>
    <h2>Devices <span id="count"></span></h2>
    <div id="devices"></div>
  </section>
</main>
<footer>Read-only. Every action but Identify is in the <code>murmur</code> CLI.</footer>
</body>
</html>
`;

export const PAGE_CSS = `
:root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --ink: #1d2330; --dim: #667085; --line: #d9dde4;
  --alive: #1a7f37; --suspect: #b35900; --dead: #c62828; --left: #667085; --other: #7b3fb3; }
@media (prefers-color-scheme: dark) { :root { --bg: #14171c; --card: #1e232b; --ink: #e6e9ef; --dim: #98a2b3; --line: #333a45; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--ink); }
header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .6rem 1rem; background: var(--card); border-bottom: 1px solid var(--line); }
h1 { font-size: 1.15rem; margin: 0; }
h1 span { color: var(--dim); font-weight: normal; }
h2 { font-size: 1rem; margin: 1rem 0 .5rem; }
main { padding: 0 1rem 1rem; max-width: 1200px; margin: 0 auto; }
footer { color: var(--dim); font-size: .8rem; text-align: center; padding: 1rem; }
#self { display: flex; align-items: center; gap: .4rem; color: var(--dim); font-size: .9rem; }
.conn { margin-left: auto; font-size: .8rem; color: var(--dim); }
.conn.live { color: var(--alive); }
.conn.down { color: var(--dead); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); border-radius: 6px; font-size: .9rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--dim); font-weight: 600; }
td.num { font-variant-numeric: tabular-nums; }
td.q { white-space: normal; min-width: 8rem; }
#aggregates td.num { font-size: .85rem; }
.out { font-size: .75rem; color: var(--suspect); }
.n { font-size: .75rem; color: var(--dim); }
.quiet { color: var(--dim); font-size: .85rem; margin-top: .75rem; }
#devices { display: grid; grid-template-columns: repeat(auto-fill, minmax(290px, 1fr)); gap: .75rem; }
.card { background: var(--card); border: 1px solid var(--line); border-left: 4px solid var(--other); border-radius: 6px; padding: .6rem .75rem; min-width: 0; }
.card.alive { border-left-color: var(--alive); }
.card.suspect { border-left-color: var(--suspect); }
.card.dead, .card.removed { border-left-color: var(--dead); opacity: .85; }
.card.left { border-left-color: var(--left); opacity: .7; }
.top { display: flex; align-items: center; gap: .5rem; }
.id { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; flex: 1; }
.badge { font-size: .75rem; padding: .05rem .45rem; border-radius: 1rem; color: #fff; background: var(--other); }
.badge.alive { background: var(--alive); }
.badge.suspect { background: var(--suspect); }
.badge.dead, .badge.removed { background: var(--dead); }
.badge.left { background: var(--left); }
.why { font-size: .8rem; color: var(--suspect); margin: .2rem 0 0; }
.meta { font-size: .8rem; color: var(--dim); margin: .2rem 0 .4rem; display: flex; flex-wrap: wrap; gap: 0 .8rem; }
.ledrow { display: flex; align-items: center; gap: .4rem; font-size: .8rem; color: var(--dim); }
.values { width: 100%; border: 0; font-size: .85rem; table-layout: fixed; }
.values td { border: 0; padding: .1rem .2rem; overflow: hidden; text-overflow: ellipsis; }
.values td.k { color: var(--dim); width: 40%; }
.values td.v { width: 35%; white-space: normal; word-break: break-word; }
.values td.err { color: var(--dead); }
.values td.plot { width: 25%; }
.more { font-size: .75rem; color: var(--dim); }
button { font: inherit; font-size: .8rem; padding: .15rem .6rem; border-radius: 4px; border: 1px solid var(--line); background: var(--bg); color: var(--ink); cursor: pointer; }
.alert { background: var(--card); border: 1px solid var(--suspect); border-left: 4px solid var(--suspect); border-radius: 6px; padding: .4rem .7rem; margin-top: .75rem; font-size: .9rem; }
.alert.bad { border-color: var(--dead); }
form { margin-top: 1rem; background: var(--card); padding: .75rem; border: 1px solid var(--line); border-radius: 6px; }
input { font: inherit; padding: .2rem .4rem; width: min(24rem, 100%); }
svg.spark polyline { fill: none; stroke: currentColor; stroke-width: 1.5; }
svg.spark { color: var(--alive); display: block; }
svg.strip rect.on { fill: #3ddc84; }
svg.strip rect.off { fill: var(--line); }
`;

export const PAGE_JS = String.raw`'use strict';
(function () {
  var SVG = 'http://www.w3.org/2000/svg';
  var state = { view: null, token: '', refreshTimer: 0, lastFetch: 0 };
  var cards = new Map();
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function headers() {
    return state.token ? { Authorization: 'Bearer ' + state.token } : {};
  }
  function ago(ms) {
    if (ms === null || ms === undefined) return 'never';
    var s = Math.round(ms / 1000);
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.round(s / 60) + ' min ago';
    return Math.round(s / 3600) + ' h ago';
  }
  function fmt(n) {
    if (n === null || n === undefined) return '–';
    var a = Math.abs(n);
    return a !== 0 && (a < 0.01 || a >= 1e6) ? n.toExponential(2) : String(Math.round(n * 100) / 100);
  }

  // The LED, drawn as it looks: a dot that blinks with the pattern's own steps (SVG animation,
  // discrete), and one cycle of the pattern as a strip beside it.
  function ledDot(status, patterns) {
    var s = svg('svg', { width: 18, height: 18, viewBox: '0 0 18 18', role: 'img', 'aria-label': 'LED ' + (status || 'unknown') });
    var c = svg('circle', { cx: 9, cy: 9, r: 7, fill: status ? '#3ddc84' : '#888', stroke: '#555', 'stroke-width': 1 });
    s.appendChild(c);
    var steps = status && patterns[status];
    if (steps) {
      var total = steps.reduce(function (t, x) { return t + x[1]; }, 0);
      var at = 0, times = [], values = [];
      steps.forEach(function (x) { times.push((at / total).toFixed(4)); values.push(x[0] ? '1' : '0.12'); at += x[1]; });
      c.appendChild(svg('animate', { attributeName: 'fill-opacity', values: values.join(';'), keyTimes: times.join(';'), calcMode: 'discrete', dur: total + 'ms', repeatCount: 'indefinite' }));
    } else {
      c.setAttribute('fill-opacity', '0.3');
    }
    return s;
  }
  function ledStrip(status, patterns) {
    var steps = patterns[status];
    var s = svg('svg', { class: 'strip', width: 60, height: 8, viewBox: '0 0 60 8', 'aria-hidden': 'true' });
    if (!steps) return s;
    var total = steps.reduce(function (t, x) { return t + x[1]; }, 0);
    var x = 0;
    steps.forEach(function (st) {
      var w = (st[1] / total) * 60;
      s.appendChild(svg('rect', { class: st[0] ? 'on' : 'off', x: x.toFixed(2), y: 0, width: Math.max(w, 0.6).toFixed(2), height: 8 }));
      x += w;
    });
    return s;
  }

  function sparkline(history) {
    var s = svg('svg', { class: 'spark', width: '100%', height: 20, viewBox: '0 0 100 20', preserveAspectRatio: 'none' });
    if (!history || history.length < 2) return s;
    var t0 = history[0][0], t1 = history[history.length - 1][0];
    var lo = Infinity, hi = -Infinity;
    history.forEach(function (p) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); });
    if (hi === lo) { hi += 1; lo -= 1; }
    var pts = history.map(function (p) {
      var x = t1 === t0 ? 0 : ((p[0] - t0) / (t1 - t0)) * 100;
      var y = 18 - ((p[1] - lo) / (hi - lo)) * 16;
      return x.toFixed(1) + ',' + y.toFixed(1);
    });
    var line = svg('polyline', { points: pts.join(' '), 'vector-effect': 'non-scaling-stroke' });
    line.appendChild(svg('title', {})).textContent = fmt(lo) + ' to ' + fmt(hi);
    s.appendChild(line);
    return s;
  }

  function renderCard(d, view) {
    var card = cards.get(d.id);
    if (!card) {
      card = { root: el('article', 'card'), ledKey: '' };
      card.root.dataset.id = d.id;
      cards.set(d.id, card);
    }
    var root = card.root;
    root.className = 'card ' + d.status;
    root.dataset.status = d.status;
    var reachable = d.status === 'alive' || d.self;
    var ledKey = (reachable ? d.led : '') + '|' + d.status;
    var top = el('div', 'top');
    var ledBox = card.ledBox;
    if (card.ledKey !== ledKey || !ledBox) {
      // Redrawn only when it changes, so the blink keeps its rhythm across refreshes.
      ledBox = el('span', 'led');
      ledBox.appendChild(ledDot(reachable ? d.led : null, view.patterns));
      card.ledBox = ledBox;
      card.ledKey = ledKey;
    }
    top.appendChild(ledBox);
    top.appendChild(el('span', 'id', d.id + (d.self ? ' (this node)' : '')));
    top.appendChild(el('span', 'badge ' + d.status, d.status));
    var parts = [top];
    if (d.explanation) parts.push(el('p', 'why', d.explanation));
    if (d.suspicion) parts.push(el('p', 'why', suspicion(d.suspicion)));
    var meta = el('div', 'meta');
    meta.appendChild(el('span', '', 'gen ' + (d.gen === null ? '?' : d.gen)));
    meta.appendChild(el('span', '', d.addr || 'no address'));
    meta.appendChild(el('span', 'heard', d.self ? 'this node' : 'heard ' + ago(d.lastHeardMsAgo)));
    parts.push(meta);
    var ledRow = el('div', 'ledrow');
    if (d.led && reachable) {
      ledRow.appendChild(ledStrip(d.led, view.patterns));
      ledRow.appendChild(el('span', '', 'LED: ' + d.led));
    } else {
      ledRow.appendChild(el('span', '', d.led ? 'LED: unknown (last said ' + d.led + ')' : 'LED: unknown'));
    }
    if (view.canIdentify && reachable) {
      var b = el('button', 'identify', d.led === 'identify' ? 'Stop identify' : 'Identify');
      b.type = 'button';
      b.addEventListener('click', function () { identify(d.id, d.led === 'identify', b); });
      ledRow.appendChild(b);
    }
    parts.push(ledRow);
    var tbl = el('table', 'values');
    d.values.forEach(function (v) {
      var tr = el('tr');
      tr.dataset.key = v.key;
      tr.appendChild(el('td', 'k', v.key.indexOf('sensor/') === 0 ? v.key.slice(7) : v.key)).title = v.key;
      if (v.error !== null) tr.appendChild(el('td', 'v err', v.error)).title = v.error;
      else tr.appendChild(el('td', 'v', v.text + (v.unit ? ' ' + v.unit : ''))).title = v.text;
      var plot = el('td', 'plot');
      plot.appendChild(sparkline(v.history));
      tr.appendChild(plot);
      tbl.appendChild(tr);
    });
    parts.push(tbl);
    if (d.more > 0) parts.push(el('div', 'more', d.more + ' more (murmur get ' + d.id + ')'));
    root.replaceChildren.apply(root, parts);
    return root;
  }

  // The core's suspicion view: who accused, independent confirmations, time left to refute.
  function suspicion(s) {
    if (!s || !Array.isArray(s.accusers)) return 'suspect: ' + describe(s);
    return 'suspect, accused by ' + s.accusers.join(', ') + '; ' + s.confirmations + ' confirmation' + (s.confirmations === 1 ? '' : 's') +
      '; declared dead in ' + (Math.max(0, s.msLeft) / 1000).toFixed(1) + ' s unless it answers';
  }

  function describe(o) {
    if (typeof o !== 'object' || o === null) return String(o);
    return Object.keys(o).map(function (k) { return k + ' ' + (typeof o[k] === 'object' ? JSON.stringify(o[k]) : o[k]); }).join(', ');
  }

  function render() {
    var v = state.view;
    if (!v) return;
    $('fleet').textContent = v.self.fleet ? '· ' + v.self.fleet : '';
    var self = $('self');
    var led = v.self.led;
    self.replaceChildren(ledDot(led && led.status, v.patterns), el('span', '', 'served by ' + v.self.id + (led ? ': ' + led.status : '')));
    var alerts = [];
    if (v.partition) alerts.push(el('div', 'alert bad', 'Partition suspected: ' + v.partition));
    v.suspicions.forEach(function (s) { alerts.push(el('div', 'alert', s.id + ': ' + suspicion(s.suspicion))); });
    if (led && led.why && led.status !== 'healthy') alerts.push(el('div', 'alert', 'This node: ' + led.status + ', ' + led.why.join('; ')));
    if (alerts.length === 0) alerts.push(el('p', 'quiet', 'No suspicion, no partition suspected.'));
    $('alerts').replaceChildren.apply($('alerts'), alerts);
    var body = $('aggregates').tBodies[0];
    var rows = (Array.isArray(v.aggregates) ? v.aggregates : []).map(function (a) {
      var tr = el('tr');
      tr.dataset.key = a.key;
      var unit = a.unit ? ' ' + a.unit : '';
      // A break is allowed after each "/" only, so a narrow screen wraps "sim-env/ temperature".
      var name = el('td', 'q', (a.key.indexOf('sensor/') === 0 ? a.key.slice(7) : a.key).split('/').join('/\u200b'));
      // Who is not counted and why, under the name: a phone has no room for a column of it.
      name.appendChild(el('div', 'n', a.count + ' of ' + a.devices + ' device' + (a.devices === 1 ? '' : 's')));
      var out = (a.leftOut || []).map(function (l) { return l.owner + ' ' + l.reason; }).join(', ');
      if (out) name.appendChild(el('div', 'out', 'not counted: ' + out));
      tr.appendChild(name);
      tr.appendChild(el('td', 'num', fmt(a.mean) + unit));
      tr.appendChild(el('td', 'num', fmt(a.min) + ' – ' + fmt(a.max)));
      return tr;
    });
    if (rows.length === 0) { var none = el('tr'); none.appendChild(el('td', '', 'no sensor readings yet')).colSpan = 3; rows.push(none); }
    body.replaceChildren.apply(body, rows);
    var seen = new Set();
    var list = v.devices.map(function (d) { seen.add(d.id); return renderCard(d, v); });
    cards.forEach(function (_c, id) { if (!seen.has(id)) cards.delete(id); });
    $('devices').replaceChildren.apply($('devices'), list);
    $('count').textContent = '(' + v.devices.length + ')';
  }

  function conn(text, cls) {
    var c = $('conn');
    c.textContent = text;
    c.className = 'conn ' + (cls || '');
  }

  function needToken(why) {
    $('login').hidden = false;
    $('login-why').textContent = why;
    conn('token needed', 'down');
  }

  function refresh() {
    state.lastFetch = Date.now();
    return fetch('/v1/fleet', { headers: headers(), cache: 'no-store' }).then(function (r) {
      if (r.status === 401) { needToken('This page needs the fleet page token (http.tokenFile on the serving device).'); return false; }
      if (!r.ok) throw new Error('GET /v1/fleet: ' + r.status);
      return r.json().then(function (view) { state.view = view; $('login').hidden = true; render(); return true; });
    });
  }

  // Coalesces bursts: at most one fetch per second, and one shortly after the last event.
  function soon() {
    if (state.refreshTimer) return;
    var wait = Math.max(150, 1000 - (Date.now() - state.lastFetch));
    state.refreshTimer = setTimeout(function () { state.refreshTimer = 0; refresh().catch(function () {}); }, wait);
  }

  function apply(e) {
    var v = state.view;
    if (!v || !e || typeof e !== 'object') return;
    if (e.type === 'member') {
      v.devices.forEach(function (d) {
        if (d.id !== e.id || d.self) return;
        d.status = e.status;
        if (typeof e.gen === 'number') d.gen = e.gen;
        if (e.status !== 'suspect') d.suspicion = null;
      });
      v.suspicions = v.suspicions.filter(function (s) { return s.id !== e.id || e.status === 'suspect'; });
      render();
    }
    if (e.type === 'member' || e.type === 'kv') soon();
  }

  function watch() {
    var buf = '';
    var decoder = new TextDecoder();
    fetch('/v1/watch', { headers: headers(), cache: 'no-store' }).then(function (r) {
      if (r.status === 401) { needToken('The token was refused: paste the one in http.tokenFile.'); return; }
      if (r.status === 503) { conn('too many pages open on this node; retrying', 'down'); return retry(10000); }
      if (!r.ok || !r.body) { conn('stream refused (' + r.status + '); retrying', 'down'); return retry(5000); }
      conn('live', 'live');
      var reader = r.body.getReader();
      var pump = function () {
        return reader.read().then(function (chunk) {
          if (chunk.done) { conn('stream ended; reconnecting', 'down'); return retry(2000); }
          buf += decoder.decode(chunk.value, { stream: true });
          var at;
          while ((at = buf.indexOf('\n\n')) >= 0) {
            var frame = buf.slice(0, at);
            buf = buf.slice(at + 2);
            frame.split('\n').forEach(function (line) {
              if (line.indexOf('data: ') !== 0) return;
              try { apply(JSON.parse(line.slice(6))); } catch (err) { /* a frame this page does not know */ }
            });
          }
          return pump();
        });
      };
      return pump();
    }).catch(function () { conn('node unreachable; retrying', 'down'); retry(3000); });
  }
  function retry(ms) { setTimeout(function () { refresh().catch(function () {}); watch(); }, ms); }

  function identify(target, off, button) {
    button.disabled = true;
    fetch('/v1/identify', { method: 'POST', headers: Object.assign({ 'Content-Type': 'application/json' }, headers()), body: JSON.stringify({ target: target, off: off }) })
      .then(function (r) { return r.json().then(function (b) { button.textContent = r.ok ? (off ? 'stopped' : 'asked') : (b.message || 'refused'); }); })
      .catch(function () { button.textContent = 'failed'; })
      .then(function () { setTimeout(soon, 1500); });
  }

  function start() {
    var m = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
    if (m) { state.token = m[1]; try { sessionStorage.setItem('murmur-token', m[1]); } catch (e) { /* private mode */ } }
    else { try { state.token = sessionStorage.getItem('murmur-token') || ''; } catch (e) { state.token = ''; } }
    $('login').addEventListener('submit', function (ev) {
      ev.preventDefault();
      state.token = $('token').value.trim();
      try { sessionStorage.setItem('murmur-token', state.token); } catch (e) { /* private mode */ }
      refresh().then(function (ok) { if (ok) watch(); }).catch(function () {});
    });
    refresh().then(function (ok) { if (ok) watch(); }).catch(function () { conn('node unreachable; retrying', 'down'); retry(3000); });
    // Ages, LEDs and aggregates change without an event: a slow tick keeps them true.
    setInterval(function () { if (state.view && Date.now() - state.lastFetch > 4000) refresh().catch(function () {}); }, 5000);
  }
  start();
})();
`;
