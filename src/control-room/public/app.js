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

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

/** Replaces a table body with one row per item; `row` returns the cells. */
function fill(tableId, items, row, emptyText) {
  const body = $(tableId).tBodies[0];
  const rows = items.map((item) => {
    const tr = document.createElement('tr');
    tr.append(...row(item, tr));
    return tr;
  });
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell(emptyText, 'empty');
    td.colSpan = $(tableId).tHead.rows[0].cells.length;
    tr.append(td);
    rows.push(tr);
  }
  body.replaceChildren(...rows);
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
  $('cues').textContent = int.format(live.cues.http + live.cues.topic);
  $('cues').title = `${live.cues.http} by POST /v1/live/cues, ${live.cues.topic} read from live.cues`;
  $('herd-rate').textContent = rate.format(live.herdPerSecond);
  $('herd-total').textContent = int.format(live.herdDecisions);
  const c = live.prefetchedCohorts;
  $('cohorts').textContent = int.format(c.filled + c.empty + c.failed);
  $('cohorts').title = `${c.filled} filled, ${c.empty} empty, ${c.failed} failed`;
  fill('breaks', live.breaks, (b, tr) => {
    tr.dataset.break = b.breakId;
    return [cell(b.breakId), cell(b.liveEventId), cell(time(b.startsAt)), cell(b.state, `state-${b.state}`), cell(`${b.filledCohorts}/${b.cohorts}`, 'num'), cell(int.format(b.herdDecisions), 'num')];
  }, 'No break cued yet.');
  fill('shed', live.shed, (s) => [cell(s.code), cell(int.format(s.count), 'num')], 'Nothing shed.');
}

function renderBeacons(beacons) {
  $('beacons-absent').hidden = beacons !== null;
  $('vendors').hidden = beacons === null;
  if (beacons === null) return;
  fill('vendors', beacons, (v, tr) => {
    tr.dataset.vendor = v.vendor;
    const action = document.createElement('button');
    action.type = 'button';
    action.textContent = v.paused ? 'Resume' : 'Pause';
    action.dataset.action = v.paused ? 'resume' : 'pause';
    action.addEventListener('click', () => act(`/v1/admin/pixels/${encodeURIComponent(v.vendor)}/${action.dataset.action}`, undefined, `${action.dataset.action} ${v.vendor}`));
    const actionCell = cell('', 'admin-only');
    actionCell.append(action);
    return [
      cell(v.vendor),
      cell(int.format(v.delivered), 'num delivered'),
      cell(int.format(v.failed), 'num'),
      cell(int.format(v.suppressed), 'num'),
      cell(pct(v.successRate), 'num'),
      cell(`${ms(v.meanLatencyMs)} / ${ms(v.p95LatencyMs)}`, 'num'),
      cell(int.format(v.queued), 'num queued'),
      cell(v.paused ? 'paused' : 'firing', v.paused ? 'state-paused' : ''),
      actionCell,
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
  fill('campaigns', rows, (c) => [cell(c.campaignId), cell(int.format(c.impressions), 'num'), cell(`${c.spend} ${c.currency}`, 'num')], 'Nothing billed yet.');
}

function renderProblems(snapshot) {
  fill('partitions', snapshot.lag, (p) => [cell(p.topic), cell(String(p.partition), 'num'), cell(int.format(p.lag), 'num')], 'No consumer here, or no lag reported yet.');
  fill('dead-letters', snapshot.deadLetters, (d) => {
    const replay = document.createElement('button');
    replay.type = 'button';
    replay.textContent = 'Replay';
    replay.addEventListener('click', () => act('/v1/admin/dlq/replay', { code: d.code }, `replay ${d.code}`));
    const actionCell = cell('', 'admin-only');
    actionCell.append(replay);
    return [cell(d.code), cell(int.format(d.count), 'num'), actionCell];
  }, 'None.');
  fill('rejected', snapshot.rejected, (r) => [cell(r.code), cell(int.format(r.count), 'num')], 'None.');
  fill('dropped', snapshot.dropped, (r) => [cell(r.code), cell(int.format(r.count), 'num')], 'None.');
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
  $('drain').disabled = latest?.pipeline === null || latest?.pipeline?.state === 'drained';
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
