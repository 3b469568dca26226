// The Control Room page: renders the snapshots the engine pushes on
// /control-room/stream, and sends operator actions to the admin API with the token
// the operator typed (kept in sessionStorage, so it leaves with the tab).
import uPlot from '/control-room/assets/uplot.esm.js';

const TOKEN_KEY = 'quartile.adminToken';
const OPERATOR_KEY = 'quartile.operator';
/** Points kept per chart: two minutes at the default one-second interval. */
const MAX_POINTS = 120;

const $ = (id) => document.getElementById(id);
const charts = new Map();
let latest;

// --- formatting -------------------------------------------------------------------
const int = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
const rate = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
const ms = (v) => (v === null ? '–' : `${rate.format(v)} ms`);
const pct = (v) => (v === null ? '–' : `${rate.format(v * 100)} %`);
const time = (epochMs) => new Date(epochMs).toLocaleTimeString();

/** A text cell: `text`, with an optional class. */
const text = (value, cls = '') => ({ text: value, cls });
/** A cell holding one button, shown to unlocked operators only. */
const button = (label, onClick) => ({ button: label, onClick, cls: 'admin-only' });

function paint(td, spec) {
  td.className = spec.cls;
  if (spec.button === undefined) {
    if (td.textContent !== spec.text) td.textContent = spec.text;
    return;
  }
  // The button is kept across snapshots, so a click is never lost to a re-render.
  let b = td.querySelector('button');
  if (b === null) {
    b = document.createElement('button');
    b.type = 'button';
    td.replaceChildren(b);
  }
  b.textContent = spec.button;
  b.dataset.action = spec.button.toLowerCase();
  b.onclick = spec.onClick;
}

/**
 * Brings a table body in line with `items`: one row per item, kept by `key` across
 * snapshots and updated in place; `cells` gives each row's cell specs.
 */
function fill(tableId, items, key, cells, emptyText) {
  const body = $(tableId).tBodies[0];
  const existing = new Map([...body.rows].filter((tr) => tr.dataset.key !== undefined).map((tr) => [tr.dataset.key, tr]));
  const rows = items.map((item) => {
    const k = key(item);
    let tr = existing.get(k);
    const specs = cells(item);
    if (tr === undefined || tr.cells.length !== specs.length) {
      tr = document.createElement('tr');
      tr.dataset.key = k;
      tr.append(...specs.map(() => document.createElement('td')));
    }
    specs.forEach((spec, i) => paint(tr.cells[i], spec));
    return tr;
  });
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.className = 'empty';
    td.textContent = emptyText;
    td.colSpan = $(tableId).tHead.rows[0].cells.length;
    tr.append(td);
    rows.push(tr);
  }
  if (rows.some((tr, i) => body.rows[i] !== tr) || body.rows.length !== rows.length) body.replaceChildren(...rows);
}

// --- charts -----------------------------------------------------------------------
function chartFor(stage) {
  let chart = charts.get(stage);
  if (chart !== undefined) return chart;
  const card = document.createElement('div');
  card.className = 'chart';
  card.dataset.stage = stage;
  const title = document.createElement('h3');
  const name = document.createElement('span');
  name.textContent = stage;
  const figure = document.createElement('span');
  figure.className = 'rate';
  title.append(name, figure);
  const plotEl = document.createElement('div');
  card.append(title, plotEl);
  const container = $('charts');
  container.querySelector('.empty')?.remove();
  container.append(card);
  const data = [[], []];
  const plot = new uPlot(
    {
      width: Math.max(240, card.clientWidth || 280),
      height: 110,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        { stroke: '#8a96a8', grid: { stroke: '#2a3442' }, ticks: { stroke: '#2a3442' }, size: 24 },
        { stroke: '#8a96a8', grid: { stroke: '#2a3442' }, ticks: { stroke: '#2a3442' }, size: 40 },
      ],
      series: [{}, { label: 'events/s', stroke: '#58a6ff', fill: 'rgba(88,166,255,.15)', width: 1.5 }],
    },
    data,
    plotEl,
  );
  chart = { card, figure, plot, data };
  charts.set(stage, chart);
  return chart;
}

function plotThroughput(snapshot) {
  for (const s of snapshot.stages) {
    const chart = chartFor(s.stage);
    const [xs, ys] = chart.data;
    xs.push(snapshot.at / 1000);
    ys.push(s.perSecond);
    if (xs.length > MAX_POINTS) {
      xs.shift();
      ys.shift();
    }
    chart.plot.setData(chart.data);
    chart.figure.textContent = `${rate.format(s.perSecond)}/s · ${int.format(s.total)} total`;
    chart.card.dataset.points = String(xs.length);
    chart.card.dataset.total = String(s.total);
  }
}

// --- panels -----------------------------------------------------------------------
function renderHeader(snapshot) {
  const parts = [snapshot.runs.collector && 'collector', snapshot.runs.adsManager && 'ads manager', snapshot.runs.pipeline && 'pipeline'].filter(Boolean);
  $('role').textContent = `role ${snapshot.role}: ${parts.join(', ') || 'control room only'}`;
  const state = $('pipeline-state');
  state.hidden = snapshot.pipeline === null;
  if (snapshot.pipeline !== null) {
    state.textContent = `pipeline ${snapshot.pipeline.state}`;
    state.dataset.state = snapshot.pipeline.state;
  }
}

function renderLive(live) {
  $('live-absent').hidden = live !== null;
  $('live-body').hidden = live === null;
  if (live === null) return;
  // Every cue, posted or produced by the origin, is read from live.cues by one Ads Manager.
  $('cues').textContent = int.format(live.cues.topic);
  $('cues-posted').textContent = `${int.format(live.cues.http)} posted here`;
  $('herd-rate').textContent = rate.format(live.herdPerSecond);
  $('herd-total').textContent = int.format(live.herdDecisions);
  const c = live.prefetchedCohorts;
  $('cohorts').textContent = int.format(c.filled + c.empty + c.failed);
  $('cohorts').title = `${c.filled} filled, ${c.empty} empty, ${c.failed} failed`;
  fill('breaks', live.breaks, (b) => `break:${b.breakId}`, (b) => [
    text(b.breakId), text(b.liveEventId), text(time(b.startsAt)), text(b.state, `state-${b.state}`), text(`${b.filledCohorts}/${b.cohorts}`, 'num'), text(int.format(b.herdDecisions), 'num'),
  ], 'No break cued yet.');
  fill('shed', live.shed, (s) => s.code, (s) => [text(s.code), text(int.format(s.count), 'num')], 'Nothing shed.');
}

function renderBeacons(beacons) {
  $('beacons-absent').hidden = beacons !== null;
  $('vendors').hidden = beacons === null;
  if (beacons === null) return;
  fill('vendors', beacons, (v) => `vendor:${v.vendor}`, (v) => {
    const verb = v.paused ? 'resume' : 'pause';
    return [
      text(v.vendor),
      text(int.format(v.delivered), 'num delivered'),
      text(int.format(v.failed), 'num'),
      text(int.format(v.suppressed), 'num'),
      text(pct(v.successRate), 'num'),
      text(`${ms(v.meanLatencyMs)} / ${ms(v.p95LatencyMs)}`, 'num'),
      text(int.format(v.queued), 'num queued'),
      text(v.paused ? 'paused' : 'firing', v.paused ? 'state state-paused' : 'state'),
      button(v.paused ? 'Resume' : 'Pause', () => act(`/v1/admin/pixels/${encodeURIComponent(v.vendor)}/${verb}`, undefined, `${verb} ${v.vendor}`)),
    ];
  }, 'No beacon yet.');
}

function renderBilling(billing) {
  const note = $('billing-note');
  const rows = billing.status === 'ok' ? billing.campaigns : [];
  note.textContent =
    billing.status === 'ok' ? `As of ${time(billing.at)} (billable_impressions, deduplicated).`
      : billing.status === 'pending' ? 'Reading ClickHouse…'
        : billing.message;
  $('campaigns').hidden = billing.status !== 'ok';
  fill('campaigns', rows, (c) => c.campaignId, (c) => [text(c.campaignId), text(int.format(c.impressions), 'num'), text(`${c.spend} ${c.currency}`, 'num')], 'Nothing billed yet.');
}

function renderProblems(snapshot) {
  fill('partitions', snapshot.lag, (p) => `${p.topic}/${p.partition}`, (p) => [text(p.topic), text(String(p.partition), 'num'), text(int.format(p.lag), 'num')], 'No consumer here, or no lag reported yet.');
  fill('dead-letters', snapshot.deadLetters, (d) => d.code, (d) => [
    text(d.code), text(int.format(d.count), 'num'), button('Replay', () => act('/v1/admin/dlq/replay', { code: d.code }, `replay ${d.code}`)),
  ], 'None.');
  fill('rejected', snapshot.rejected, (r) => r.code, (r) => [text(r.code), text(int.format(r.count), 'num')], 'None.');
  fill('dropped', snapshot.dropped, (r) => r.code, (r) => [text(r.code), text(int.format(r.count), 'num')], 'None.');
}

function renderActions(actions) {
  const items = actions.map((a) => {
    const li = document.createElement('li');
    const what = document.createElement('span');
    const detail = Object.entries(a.detail).filter(([k]) => ['vendor', 'code', 'from', 'replayed', 'queued'].includes(k)).map(([k, v]) => `${k} ${v}`).join(', ');
    what.textContent = `${a.action}${detail ? ` (${detail})` : ''}`;
    li.append(`${time(Date.parse(a.at))} ${a.operator}: `, what);
    return li;
  });
  $('actions').replaceChildren(...items);
  const drained = latest?.pipeline?.state === 'drained' || latest?.pipeline?.state === 'draining';
  $('drain').disabled = latest?.pipeline === null || drained;
  if (drained) $('drain').textContent = `Pipeline ${latest.pipeline.state}: restart the process to consume again`;
}

function render(snapshot) {
  latest = snapshot;
  renderHeader(snapshot);
  plotThroughput(snapshot);
  renderLive(snapshot.live);
  renderBeacons(snapshot.beacons);
  renderBilling(snapshot.billing);
  renderProblems(snapshot);
  renderActions(snapshot.actions);
}

// --- operator actions -------------------------------------------------------------
function say(text, kind = 'info') {
  const box = $('action-message');
  box.hidden = false;
  box.dataset.kind = kind;
  box.textContent = text;
}

function setUnlocked(unlocked) {
  document.body.classList.toggle('unlocked', unlocked);
  $('forget-token').hidden = !unlocked;
  $('use-token').hidden = unlocked;
  $('token').disabled = unlocked;
}

async function act(path, body, what) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return say('Give the admin token first.', 'error');
  const response = await fetch(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'x-quartile-operator': sessionStorage.getItem(OPERATOR_KEY) || 'control-room', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((error) => ({ ok: false, status: 0, json: async () => ({ message: `The engine cannot be reached (${error.message}); check that it runs.` }) }));
  const answer = await response.json().catch(() => ({}));
  if (response.ok) return say(`Done: ${what}.`);
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    setUnlocked(false);
  }
  say(`${what} failed (${response.status || 'no answer'}): ${answer.message ?? 'no reason given'}`, 'error');
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = $('token').value.trim();
  if (token === '') return say('Type the admin token (QUARTILE_ADMIN_TOKEN) to unlock the actions.', 'error');
  sessionStorage.setItem(TOKEN_KEY, token);
  sessionStorage.setItem(OPERATOR_KEY, $('operator').value.trim());
  $('token').value = '';
  setUnlocked(true);
  if (latest) render(latest);
});
$('forget-token').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  setUnlocked(false);
});
let drainArmed = false;
$('drain').addEventListener('click', () => {
  // Two clicks: draining stops this process's pipeline until it is restarted.
  if (!drainArmed) {
    drainArmed = true;
    $('drain').textContent = 'Click again to drain: the pipeline stays stopped until a restart';
    return;
  }
  drainArmed = false;
  $('drain').textContent = 'Drain and stop the pipeline';
  void act('/v1/admin/pipeline/drain', undefined, 'drain the pipeline');
});
$('operator').value = sessionStorage.getItem(OPERATOR_KEY) ?? '';
setUnlocked(Boolean(sessionStorage.getItem(TOKEN_KEY)));

// --- the stream ---------------------------------------------------------------------
const stream = new EventSource('/control-room/stream');
stream.addEventListener('snapshot', (event) => {
  $('connection').dataset.state = 'live';
  $('connection').textContent = 'live';
  render(JSON.parse(event.data));
});
stream.addEventListener('error', () => {
  $('connection').dataset.state = 'lost';
  $('connection').textContent = 'reconnecting…';
});
