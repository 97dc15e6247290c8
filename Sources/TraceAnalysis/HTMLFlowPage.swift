/// The page `HTMLFlowExporter` writes: inline style and script, no external references. The
/// exporter puts the run's JSON where the template says `/*LUNA-DATA*/`.
///
/// Layout: one column (lane) per process, time running down. The script draws on a canvas
/// whatever falls in the current time range, so the cost of a frame is one pass over the arrays.
/// The wheel zooms around the pointer, dragging pans, the fields restrict the range or filter by
/// pid, tag or message; a click on an arrow shows the message's life. `#message=ID`, `#pid=P`,
/// `#tag=T`, `#from=MS` and `#to=MS` in the address set the same fields when the page loads.
///
/// Once the first frame is drawn the page writes what it rendered into `<output id="summary">`
/// (counts of lanes, arrows, link deaths, timeouts, near misses, traps, deaths, and how long the
/// first frame took), where a headless browser's `--dump-dom` can read it.
enum HTMLFlowPage {
    static let template = #"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>luna-trace flow</title>
        <style>
          html, body { margin: 0; height: 100%; font: 12px/1.4 -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1d2430; background: #fbfbfd; }
          body { display: flex; flex-direction: column; }
          header { padding: 6px 10px; border-bottom: 1px solid #d6dae2; display: flex; flex-wrap: wrap; gap: 6px 14px; align-items: center; background: #fff; }
          header h1 { font-size: 13px; margin: 0 8px 0 0; font-weight: 600; }
          header label { display: inline-flex; gap: 4px; align-items: center; }
          header input { width: 80px; font: inherit; padding: 1px 4px; }
          header button { font: inherit; }
          #legend span { margin-right: 10px; white-space: nowrap; }
          #legend i { display: inline-block; width: 18px; height: 3px; vertical-align: middle; margin-right: 3px; }
          #main { flex: 1; display: flex; min-height: 0; }
          #plot { flex: 1; position: relative; min-width: 0; }
          canvas { position: absolute; inset: 0; width: 100%; height: 100%; cursor: crosshair; }
          aside { width: 34%; max-width: 560px; border-left: 1px solid #d6dae2; overflow: auto; background: #fff; }
          aside h2 { font-size: 12px; margin: 8px 10px 0; }
          #life { margin: 6px 10px; white-space: pre-wrap; font: 11px/1.45 ui-monospace, "DejaVu Sans Mono", monospace; }
          #summary { display: block; padding: 3px 10px; border-top: 1px solid #d6dae2; color: #555; background: #fff; }
        </style>
        </head>
        <body>
        <header>
          <h1 id="title">luna-trace flow</h1>
          <label>from <input id="from" placeholder="ms"></label>
          <label>to <input id="to" placeholder="ms"></label>
          <label>pid <input id="pid" placeholder="1,2"></label>
          <label>tag <input id="tag" placeholder="any"></label>
          <label>message <input id="message" placeholder="ids"></label>
          <button id="reset" type="button">whole run</button>
          <span id="legend">
            <span><i style="background:#2f6fd6"></i>message</span>
            <span><i style="background:#d63a2f"></i>lost</span>
            <span><i style="background:#8a3ad6"></i>link died</span>
            <span><i style="background:#9aa3b2"></i>spawn</span>
            <span><i style="background:#e08a00"></i>timeout</span>
            <span><i style="background:#19a05a"></i>carries resources</span>
          </span>
        </header>
        <div id="main">
          <div id="plot"><canvas id="canvas"></canvas></div>
          <aside><h2>Message life</h2><pre id="life">Click an arrow to see its message's life.</pre></aside>
        </div>
        <output id="summary"></output>
        <script type="application/json" id="luna-data">/*LUNA-DATA*/</script>
        <script>
        'use strict';
        (function () {
          const D = JSON.parse(document.getElementById('luna-data').textContent);
          const N = v => typeof v === 'string' ? Number(v) : v;
          const MS = 13, HS = 11;
          const lanes = D.lanes;  // [pid, entry, parent, firstSeen, exitAt, status, summary]
          const nLanes = lanes.length, nMsgs = D.msgs.length / MS, nHops = D.hops.length / HS;
          const m = (i, f) => D.msgs[i * MS + f];
          const h = (i, f) => D.hops[i * HS + f];
          document.getElementById('title').textContent = 'luna-trace flow — ' + D.title + ' (' + D.events + ' events)';

          // Hops of each message: they are stored message by message.
          const hopStart = new Int32Array(nMsgs + 1).fill(-1);
          for (let i = nHops - 1; i >= 0; i--) hopStart[h(i, 0)] = i;
          const msgIndex = new Map();
          for (let i = 0; i < nMsgs; i++) msgIndex.set(String(m(i, 0)), i);

          // Every arrow: kind 0 message delivered, 1 message sent and never received, 2 link died,
          // 3 spawn, 4 kill; msg is the message index (-1 none).
          const K = { MSG: 0, LOST: 1, LINK: 2, SPAWN: 3, KILL: 4 };
          const A = { from: [], to: [], t1: [], t2: [], kind: [], msg: [] };
          function arrow(from, to, t1, t2, kind, msg) {
            A.from.push(from); A.to.push(to); A.t1.push(N(t1)); A.t2.push(N(t2)); A.kind.push(kind); A.msg.push(msg);
          }
          let delivered = 0, lost = 0, resourceArrows = 0;
          for (let i = 0; i < nHops; i++) {
            const mi = h(i, 0), from = h(i, 1), call = h(i, 4);
            if (from < 0 || D.calls[call] === 'link_died') continue;
            if (h(i, 6) >= 0) {
              arrow(from, h(i, 6), h(i, 3), h(i, 8), K.MSG, mi);
              delivered++;
              if (m(mi, 10) > 0) resourceArrows++;
            } else {
              arrow(from, h(i, 2), h(i, 3), h(i, 3), K.LOST, mi);
              lost++;
            }
          }
          const LS = 6;
          for (let i = 0; i < D.links.length; i += LS) {
            const id = D.links[i + 5];
            arrow(D.links[i], D.links[i + 1], D.links[i + 2], D.links[i + 3], K.LINK, id === -1 ? -1 : (msgIndex.has(String(id)) ? msgIndex.get(String(id)) : -1));
          }
          for (let i = 0; i < D.spawns.length; i += 3) arrow(D.spawns[i], D.spawns[i + 1], D.spawns[i + 2], D.spawns[i + 2], K.SPAWN, -1);
          for (let i = 0; i < D.kills.length; i += 3) arrow(D.kills[i], D.kills[i + 1], D.kills[i + 2], D.kills[i + 2], K.KILL, -1);
          const nArrows = A.from.length;

          // --- The life of a message, in the words of `luna-trace flow` ---
          function pad(v, w) { return String(v).padStart(w, '0'); }
          function timestamp(t) { t = N(t); return Math.floor(t / 1e9) + '.' + pad(Math.floor((t % 1e9) / 1000), 6) + 's'; }
          function stamp(t) { if (t === -1) return '         ?   '; return timestamp(t).padStart(13, ' '); }
          function decimal(v, unit, digits) {
            const scale = Math.pow(10, digits);
            let whole = Math.floor(v / unit), frac = Math.floor(((v % unit) * scale + Math.floor(unit / 2)) / unit);
            if (frac === scale) { whole += 1; frac = 0; }
            return whole + '.' + pad(frac, digits);
          }
          function duration(ns) {
            ns = N(ns);
            if (ns < 1000) return ns + 'ns';
            if (ns < 1e6) return decimal(ns, 1000, 1) + 'µs';
            if (ns < 1e9) return decimal(ns, 1e6, 2) + 'ms';
            return decimal(ns, 1e9, 3) + 's';
          }
          function who(lane) {
            if (lane < 0) return 'the host';
            const L = lanes[lane];
            if (L[0] === '0') return 'the host';
            return L[1] ? 'pid ' + L[0] + ' (' + L[1] + ')' : 'pid ' + L[0];
          }
          function life(i) {
            const out = [], id = m(i, 0), tag = m(i, 1), creator = m(i, 2), createdAt = m(i, 3), linkDied = m(i, 9) === 1;
            let title = 'message #' + id + (linkDied ? ' (link_died)' : '');
            title += String(tag) !== '0' ? '  tag ' + tag : '  untagged';
            out.push(title);
            if (linkDied) out.push('  ' + stamp(createdAt) + ' queued by the runtime: ' + who(creator) + ' died (link tag ' + tag + ')');
            else if (creator >= 0) out.push('  ' + stamp(createdAt) + ' created by ' + who(creator) + (N(m(i, 4)) > 0 ? ' (capacity hint ' + m(i, 4) + ')' : ''));
            else out.push('  created before the trace starts');
            if (m(i, 6) > 0 || N(m(i, 5)) > 0) out.push('  wrote ' + m(i, 5) + ' B in ' + m(i, 6) + ' write_data call(s)');
            if (m(i, 11) >= 0) out.push(...D.texts[m(i, 11)]);
            for (let k = hopStart[i]; k >= 0 && k < nHops && h(k, 0) === i; k++) {
              const from = h(k, 1), to = h(k, 2), sentAt = h(k, 3), call = h(k, 4), running = h(k, 5) === 1;
              if (from >= 0 && D.calls[call] !== 'link_died') {
                let line = '  ' + stamp(sentAt) + ' sent by ' + who(from) + ' to ' + who(to) + ' with ' + D.calls[call];
                if (!running) {
                  const L = lanes[to];
                  if (L && L[4] !== -1 && N(L[4]) <= N(sentAt)) line += ' — receiver had already ended (' + L[6] + ')';
                  else line += ' — no such process';
                }
                out.push(line);
              }
              const receiver = h(k, 6);
              if (receiver >= 0) {
                const calledAt = N(h(k, 7)), at = N(h(k, 8)), set = h(k, 10);
                const tags = set >= 0 ? 'tag set [' + D.strings[set] + ']' : 'any tag';
                let line = '  ' + stamp(at) + ' received by ' + who(receiver) + ' via ' + D.calls[h(k, 9)] + ' (' + tags + ') after waiting ' + duration(at >= calledAt ? at - calledAt : 0);
                if (from >= 0 && at >= N(sentAt)) line += '; ' + duration(at - N(sentAt)) + ' after the send';
                out.push(line);
              }
            }
            if (m(i, 8) > 0 || N(m(i, 7)) > 0) out.push('  read ' + m(i, 7) + ' B in ' + m(i, 8) + ' read_data call(s)');
            if (m(i, 12) >= 0) out.push(...D.texts[m(i, 12)]);
            return out.join('\n');
          }

          // --- View state ---
          const canvas = document.getElementById('canvas'), ctx = canvas.getContext('2d');
          const runStart = N(D.start), runEnd = Math.max(N(D.end), N(D.start) + 1);
          const margin = (runEnd - runStart) * 0.02;
          const view = { a: runStart - margin, b: runEnd + margin };
          let filter = { lanes: null, tag: null, msg: null };
          let selected = new Set();
          let laneX = new Float64Array(nLanes), laneShown = new Uint8Array(nLanes), shownArrow = new Uint8Array(nArrows);
          const HEAD = 34;
          let W = 0, H = 0, drawnArrows = 0;

          function applyFilter() {
            laneShown.fill(filter.lanes ? 0 : 1);
            for (let i = 0; i < nArrows; i++) {
              let ok = true;
              const mi = A.msg[i];
              if (filter.tag !== null) ok = mi >= 0 && String(m(mi, 1)) === filter.tag;
              if (ok && filter.msg !== null) ok = mi >= 0 && filter.msg.has(String(m(mi, 0)));
              if (ok && filter.lanes) ok = filter.lanes.has(A.from[i]) || filter.lanes.has(A.to[i]);
              shownArrow[i] = ok ? 1 : 0;
              if (ok && filter.lanes) { laneShown[A.from[i]] = 1; laneShown[A.to[i]] = 1; }
            }
            if (filter.lanes) for (const l of filter.lanes) laneShown[l] = 1;
            let n = 0;
            for (let l = 0; l < nLanes; l++) if (laneShown[l]) n++;
            const width = Math.max(n, 1);
            let k = 0;
            for (let l = 0; l < nLanes; l++) laneX[l] = laneShown[l] ? (k++ + 0.5) * (W / width) : -1;
          }

          const y = t => HEAD + (t - view.a) / (view.b - view.a) * (H - HEAD - 8);
          const tAt = py => view.a + (py - HEAD) / (H - HEAD - 8) * (view.b - view.a);

          function resize() {
            const r = canvas.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
            W = Math.max(1, r.width); H = Math.max(HEAD + 20, r.height);
            canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
            ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
            applyFilter();
          }

          function label(text, x, yy, color) {
            ctx.fillStyle = 'rgba(251,251,253,0.85)';
            const w = ctx.measureText(text).width;
            ctx.fillRect(x - 1, yy - 9, w + 2, 11);
            ctx.fillStyle = color; ctx.fillText(text, x, yy);
          }
          function arrowHead(x1, y1, x2, y2) {
            const ang = Math.atan2(y2 - y1, x2 - x1), s = 6;
            ctx.beginPath(); ctx.moveTo(x2, y2);
            ctx.lineTo(x2 - s * Math.cos(ang - 0.4), y2 - s * Math.sin(ang - 0.4));
            ctx.lineTo(x2 - s * Math.cos(ang + 0.4), y2 - s * Math.sin(ang + 0.4));
            ctx.closePath(); ctx.fill();
          }
          const COLORS = ['#2f6fd6', '#d63a2f', '#8a3ad6', '#9aa3b2', '#7a1010'];

          function msgLabel(mi) {
            let s = 'm' + m(mi, 0);
            if (String(m(mi, 1)) !== '0') s += ' tag ' + m(mi, 1);
            if (N(m(mi, 5)) > 0) s += ' ' + m(mi, 5) + 'B';
            if (m(mi, 10) > 0) s += ' +' + m(mi, 10) + ' res';
            return s;
          }

          function draw() {
            ctx.clearRect(0, 0, W, H);
            ctx.font = '11px sans-serif'; ctx.textBaseline = 'alphabetic';
            const yTop = HEAD, yBottom = H - 8;
            // Lanes: a line from when the process was first seen to when it ended.
            for (let l = 0; l < nLanes; l++) {
              if (!laneShown[l]) continue;
              const L = lanes[l], x = laneX[l];
              const from = Math.max(yTop, y(N(L[3]))), to = Math.min(yBottom, L[4] === -1 ? yBottom : y(N(L[4])));
              ctx.strokeStyle = '#c5cbd6'; ctx.lineWidth = 1;
              if (to > from) { ctx.beginPath(); ctx.moveTo(x, from); ctx.lineTo(x, to); ctx.stroke(); }
              if (L[4] !== -1 && y(N(L[4])) >= yTop && y(N(L[4])) <= yBottom) {
                const ey = y(N(L[4]));
                if (L[5] === 0) { ctx.fillStyle = '#6b7280'; ctx.fillRect(x - 6, ey - 1, 12, 2); }
                else { ctx.fillStyle = '#b91c1c'; ctx.fillRect(x - 5, ey - 5, 10, 10); label('✝ ' + L[6], x + 8, ey + 4, '#b91c1c'); }
              }
            }
            // Timeouts (orange bars on the waiting lane); a near miss is outlined in red.
            for (let i = 0; i < D.timeouts.length; i += 4) {
              const l = D.timeouts[i]; if (!laneShown[l]) continue;
              const y1 = y(N(D.timeouts[i + 1])), y2 = y(N(D.timeouts[i + 2]));
              if (y2 < yTop || y1 > yBottom) continue;
              const x = laneX[l], near = D.timeouts[i + 3] !== -1;
              ctx.fillStyle = 'rgba(224,138,0,0.35)';
              ctx.fillRect(x - 4, Math.max(y1, yTop), 8, Math.max(2, Math.min(y2, yBottom) - Math.max(y1, yTop)));
              ctx.strokeStyle = near ? '#d63a2f' : '#e08a00'; ctx.lineWidth = near ? 2 : 1;
              ctx.strokeRect(x - 4, Math.max(y1, yTop), 8, Math.max(2, Math.min(y2, yBottom) - Math.max(y1, yTop)));
              if (y2 >= yTop && y2 <= yBottom) label(near ? 'timeout — near miss m' + D.timeouts[i + 3] : 'timeout', x + 7, y2, near ? '#d63a2f' : '#a86400');
            }
            // Traps.
            for (let i = 0; i < D.traps.length; i += 3) {
              const l = D.traps[i]; if (!laneShown[l]) continue;
              const ty = y(N(D.traps[i + 1])); if (ty < yTop || ty > yBottom) continue;
              const x = laneX[l];
              ctx.strokeStyle = '#b91c1c'; ctx.lineWidth = 2;
              ctx.beginPath(); ctx.moveTo(x - 5, ty - 5); ctx.lineTo(x + 5, ty + 5); ctx.moveTo(x + 5, ty - 5); ctx.lineTo(x - 5, ty + 5); ctx.stroke();
              label('trap ' + D.strings[D.traps[i + 2]], x + 8, ty - 4, '#b91c1c');
            }
            // Arrows: count the visible ones first, to decide whether they get labels.
            let visible = 0;
            for (let i = 0; i < nArrows; i++) {
              if (!shownArrow[i]) continue;
              const y1 = y(A.t1[i]), y2 = y(A.t2[i]);
              if ((y1 < yTop && y2 < yTop) || (y1 > yBottom && y2 > yBottom)) continue;
              visible++;
            }
            const labels = visible <= 300;
            drawnArrows = 0;
            for (let pass = 0; pass < 2; pass++) {
              for (let i = 0; i < nArrows; i++) {
                if (!shownArrow[i]) continue;
                const isSel = A.msg[i] >= 0 && selected.has(A.msg[i]);
                if ((pass === 1) !== isSel) continue;
                const y1 = y(A.t1[i]), y2 = y(A.t2[i]);
                if ((y1 < yTop && y2 < yTop) || (y1 > yBottom && y2 > yBottom)) continue;
                const x1 = laneX[A.from[i]], x2 = laneX[A.to[i]], kind = A.kind[i];
                if (x1 < 0 || x2 < 0) continue;
                drawnArrows++;
                const color = isSel ? '#ff7a00' : COLORS[kind];
                ctx.strokeStyle = color; ctx.fillStyle = color;
                ctx.lineWidth = isSel ? 3 : (kind === K.LINK ? 2 : 1.2);
                ctx.setLineDash(kind === K.LINK ? [6, 3] : kind === K.SPAWN ? [2, 3] : kind === K.LOST ? [4, 2] : []);
                const ey = kind === K.LOST ? y2 + 0.001 : y2;
                ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, ey); ctx.stroke();
                ctx.setLineDash([]);
                if (kind === K.LOST) {
                  ctx.beginPath(); ctx.moveTo(x2 - 5, ey - 5); ctx.lineTo(x2 + 5, ey + 5); ctx.moveTo(x2 + 5, ey - 5); ctx.lineTo(x2 - 5, ey + 5); ctx.stroke();
                } else if (x1 !== x2 || y1 !== y2) {
                  arrowHead(x1, y1, x2, ey);
                }
                const mi = A.msg[i];
                if (kind === K.MSG && mi >= 0 && m(mi, 10) > 0) {
                  const mx = (x1 + x2) / 2, my = (y1 + y2) / 2;
                  ctx.fillStyle = '#19a05a'; ctx.beginPath(); ctx.moveTo(mx, my - 5); ctx.lineTo(mx + 5, my); ctx.lineTo(mx, my + 5); ctx.lineTo(mx - 5, my); ctx.fill();
                }
                if (labels && (kind !== K.SPAWN || isSel)) {
                  let text = mi >= 0 ? msgLabel(mi) : '';
                  if (kind === K.LINK) text = 'link died' + (text ? ' ' + text : '');
                  if (kind === K.LOST) text += ' lost';
                  if (kind === K.KILL) text = 'kill';
                  if (text) label(text, (x1 + x2) / 2 + 6, (y1 + y2) / 2 - 3, isSel ? '#c25400' : color);
                }
              }
            }
            // Lane names on top of everything, with the time at the top and bottom of the view.
            ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, HEAD - 4);
            ctx.strokeStyle = '#d6dae2'; ctx.beginPath(); ctx.moveTo(0, HEAD - 4); ctx.lineTo(W, HEAD - 4); ctx.stroke();
            let shownCount = 0; for (let l = 0; l < nLanes; l++) if (laneShown[l]) shownCount++;
            const colW = W / Math.max(1, shownCount);
            ctx.textAlign = 'center'; ctx.fillStyle = '#1d2430';
            for (let l = 0; l < nLanes; l++) {
              if (!laneShown[l]) continue;
              const L = lanes[l], name = L[0] === '0' ? 'host' : 'pid ' + L[0];
              if (colW >= 24) {
                ctx.font = 'bold 11px sans-serif'; ctx.fillText(name, laneX[l], 13, colW - 4);
                ctx.font = '10px sans-serif'; ctx.fillText(L[1], laneX[l], 26, colW - 4);
              }
            }
            ctx.textAlign = 'left'; ctx.font = '10px sans-serif'; ctx.fillStyle = '#6b7280';
            ctx.fillText(duration(Math.max(0, view.a - runStart)), 4, HEAD + 10);
            ctx.fillText(duration(Math.max(0, view.b - runStart)), 4, H - 10);
          }

          let pending = false;
          function redraw() { if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; draw(); }); } }

          // --- Interaction ---
          const $ = id => document.getElementById(id);
          function readFields() {
            const pids = $('pid').value.split(/[ ,]+/).filter(s => s.length);
            if (pids.length) {
              filter.lanes = new Set();
              for (let l = 0; l < nLanes; l++) if (pids.includes(lanes[l][0])) filter.lanes.add(l);
            } else filter.lanes = null;
            filter.tag = $('tag').value.trim() || null;
            const ids = $('message').value.split(/[ ,]+/).map(s => s.replace(/^[m#]/, '')).filter(s => s.length);
            filter.msg = ids.length ? new Set(ids) : null;
            const from = parseFloat($('from').value), to = parseFloat($('to').value);
            view.a = isFinite(from) ? runStart + from * 1e6 : runStart - margin;
            view.b = isFinite(to) ? runStart + to * 1e6 : runEnd + margin;
            if (view.b <= view.a) view.b = view.a + 1000;
            if (filter.msg !== null) select(ids.filter(id => msgIndex.has(id)).map(id => msgIndex.get(id)));
            applyFilter();
            redraw();
          }
          function showRange() {
            $('from').value = ((view.a - runStart) / 1e6).toFixed(3);
            $('to').value = ((view.b - runStart) / 1e6).toFixed(3);
          }
          function select(list) {
            selected = new Set(list);
            $('life').textContent = list.length ? list.map(life).join('\n\n') : 'Click an arrow to see its message\'s life.';
          }
          for (const id of ['from', 'to', 'pid', 'tag', 'message']) $(id).addEventListener('change', readFields);
          $('reset').addEventListener('click', () => {
            for (const id of ['from', 'to', 'pid', 'tag', 'message']) $(id).value = '';
            select([]); readFields();
          });
          canvas.addEventListener('wheel', ev => {
            ev.preventDefault();
            const r = canvas.getBoundingClientRect(), t = tAt(ev.clientY - r.top), f = Math.exp(ev.deltaY * 0.002);
            const a = t - (t - view.a) * f, b = t + (view.b - t) * f;
            if (b - a > 100) { view.a = a; view.b = b; showRange(); redraw(); }
          }, { passive: false });
          let drag = null;
          canvas.addEventListener('mousedown', ev => { drag = { y: ev.clientY, a: view.a, b: view.b, moved: false }; });
          window.addEventListener('mousemove', ev => {
            if (!drag) return;
            const dy = ev.clientY - drag.y; if (Math.abs(dy) > 3) drag.moved = true;
            const dt = dy / (H - HEAD - 8) * (drag.b - drag.a);
            view.a = drag.a - dt; view.b = drag.b - dt; showRange(); redraw();
          });
          window.addEventListener('mouseup', ev => {
            if (drag && !drag.moved) pick(ev);
            drag = null;
          });
          function pick(ev) {
            const r = canvas.getBoundingClientRect(), px = ev.clientX - r.left, py = ev.clientY - r.top;
            let best = -1, bestD = 7;
            for (let i = 0; i < nArrows; i++) {
              if (!shownArrow[i] || A.msg[i] < 0) continue;
              const x1 = laneX[A.from[i]], x2 = laneX[A.to[i]], y1 = y(A.t1[i]), y2 = y(A.t2[i]);
              if (x1 < 0 || x2 < 0) continue;
              const dx = x2 - x1, dy = y2 - y1, len = dx * dx + dy * dy;
              const u = len > 0 ? Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / len)) : 0;
              const d = Math.hypot(px - (x1 + u * dx), py - (y1 + u * dy));
              if (d < bestD) { bestD = d; best = i; }
            }
            select(best >= 0 ? [A.msg[best]] : []);
            redraw();
          }
          window.addEventListener('resize', () => { resize(); redraw(); });

          // Fields from the address (#message=1&pid=2), then the first frame, drawn at once.
          for (const part of location.hash.replace(/^#/, '').split('&')) {
            const [k, v] = part.split('=');
            if (['from', 'to', 'pid', 'tag', 'message'].includes(k) && v !== undefined) $(k).value = decodeURIComponent(v);
          }
          resize();
          readFields();
          pending = false;
          draw();
          const paint = performance.now();

          // What was rendered, counted from the arrays, for a headless browser to read.
          let deaths = 0; for (const L of lanes) if (L[5] !== -1 && L[5] !== 0) deaths++;
          let nearMisses = 0; for (let i = 3; i < D.timeouts.length; i += 4) if (D.timeouts[i] !== -1) nearMisses++;
          const summary = {
            lanes: nLanes, arrows: delivered, lost: lost, links: D.links.length / LS, spawns: D.spawns.length / 3,
            timeouts: D.timeouts.length / 4, nearMisses: nearMisses, traps: D.traps.length / 3, deaths: deaths,
            resourceArrows: resourceArrows, messages: nMsgs, drawn: drawnArrows, canvas: Math.round(W) + 'x' + Math.round(H),
            paintMs: Math.round(paint)
          };
          const out = $('summary');
          for (const k in summary) out.dataset[k] = String(summary[k]);
          out.textContent = Object.keys(summary).map(k => k + ' ' + summary[k]).join(' · ');
        })();
        </script>
        </body>
        </html>

        """#
}
