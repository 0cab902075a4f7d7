// The normlab dashboard page. Data comes from the JSON API, or, in a report file, from the JSON
// embedded in the page. Every string from the store goes into the DOM as text (textContent,
// text nodes, Option), never as HTML; charts draw on canvas.

const embedded = document.getElementById('normlab-data');
const REPORT = embedded ? JSON.parse(embedded.textContent) : null;
const TOKEN = REPORT ? null : new URLSearchParams(location.search).get('token');
const REFRESH_MS = 5000;

const $ = (id) => document.getElementById(id);

/** Creates an element; props are DOM properties (never innerHTML), children become text nodes. */
function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e[k] = v;
  }
  for (const c of children) {
    if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

function fmt(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5 ? String(+v.toPrecision(4)) : v.toExponential(3);
  }
  if (Array.isArray(v)) return v.join(', ');
  return String(v);
}

/** Seconds as h:mm:ss (m:ss under an hour). */
function duration(seconds) {
  if (seconds === null || seconds === undefined) return null;
  const t = Math.round(seconds), h = Math.floor(t / 3600), m = Math.floor(t / 60) % 60, sec = t % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return (h > 0 ? h + ':' : '') + mm + ':' + String(sec).padStart(2, '0');
}

function runLabel(id) {
  const r = state.allRuns.find((x) => x.id === id);
  if (!r) return id;
  // compare names its runs <group>-<norm>: the group is in the table already, keep the legend short
  const name = r.group && r.name.startsWith(r.group + '-') ? r.name.slice(r.group.length + 1) : r.name;
  return `${name} (${r.id})`;
}

// ------------------------------------------------------------------ data access

async function api(endpoint, params = {}) {
  if (REPORT) return localApi(endpoint, params);
  const url = new URL('/api/' + endpoint, location.origin);
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  const headers = TOKEN ? { 'X-Normlab-Token': TOKEN } : {};
  const response = await fetch(url, { headers, cache: 'no-store' });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

/** The image of an example as the model saw it on test set `set` ('' for the run's own). */
function imageUrl(run, row, set) {
  if (REPORT) return REPORT.images[row.image] || '';
  return `/api/image?run=${encodeURIComponent(run)}&example=${row.example}`
    + (set ? `&set=${encodeURIComponent(set)}` : '');
}

function sortRuns(runs, sort, order) {
  if (!sort) return runs;
  const value = (r) =>
    sort.startsWith('config.') ? r.config[sort.slice(7)]
      : sort.startsWith('summary.') ? r.summary[sort.slice(8)] : r[sort];
  const sorted = [...runs].sort((a, b) => {
    const x = value(a), y = value(b);
    if (x === undefined || x === null) return y === undefined || y === null ? 0 : 1;
    if (y === undefined || y === null) return -1;
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return order === 'desc' ? -c : c;
  });
  return sorted;
}

/** The API answered from the report's embedded data (same shapes as the server's answers). */
function localApi(endpoint, p) {
  switch (endpoint) {
    case 'runs': {
      const runs = REPORT.runs.filter((r) =>
        (!p.group || r.group === p.group) && (!p.status || r.status === p.status)
        && (!p.tag || r.tags.includes(p.tag)) && (!p.norm || String(r.config.norm) === p.norm)
        && Object.entries(p).every(([k, v]) => !k.startsWith('config.') || String(r.config[k.slice(7)]) === v));
      return sortRuns(runs, p.sort, p.order);
    }
    case 'groups': return [REPORT.group];
    case 'keys': return REPORT.keys;
    case 'parallel': return { group: REPORT.group, runs: REPORT.runs, keys: REPORT.keys };
    case 'importance':
      return REPORT.importance?.[p.metric]
        ?? { metric: p.metric, runs: 0, parameters: [], left_out: {}, reason: 'not in this report' };
    case 'metrics':
      return {
        key: p.key, x: p.x,
        series: p.run.split(',').map((run) => {
          const points = REPORT.metrics[run]?.[p.key]?.[p.x] ?? [];
          return { run, total: points.length, points };
        }),
      };
    case 'confusion':
      return (p.set ? REPORT.shifted[p.run]?.predictions[p.set]?.confusion : REPORT.confusion[p.run])
        ?? { run: p.run, classes: 0, total: 0, matrix: [] };
    case 'prediction-sets': return REPORT.shifted?.[p.run]?.sets ?? [];
    case 'predictions': {
      const all = predictionRows(p.run, p.set).filter((r) =>
        (!p.mistakes || r.predicted !== r.label) && (p.label === undefined || p.label === null || r.label === +p.label));
      const groups = {};
      for (const r of all) groups[r.predicted] = (groups[r.predicted] || 0) + 1;
      let rows = p.predicted === undefined || p.predicted === null ? all : all.filter((r) => r.predicted === +p.predicted);
      const by = {
        example: (a, b) => a.example - b.example,
        confidence: (a, b) => b.confidence - a.confidence || a.example - b.example,
        '-confidence': (a, b) => a.confidence - b.confidence || a.example - b.example,
        mistakes: (a, b) => (a.predicted === a.label) - (b.predicted === b.label)
          || b.confidence - a.confidence || a.example - b.example,
      }[p.sort || 'example'];
      rows = [...rows].sort(by);
      const page = +p.page || 0, size = +p.size || 50;
      const stored = predictionsOf(p.run, p.set);
      // a report keeps part of each run's predictions: say how many of how many
      const kept = stored && stored.rows.length < stored.total ? { kept: stored.rows.length, of: stored.total } : null;
      return { run: p.run, set: p.set || '', classes: stored?.classes ?? null, kept,
        total: rows.length, page, size, groups, rows: rows.slice(page * size, (page + 1) * size) };
    }
    case 'compare-predictions': {
      const bSet = p.b_set === undefined ? p.set : p.b_set === '-' ? '' : p.b_set;
      const b = new Map(predictionRows(p.b, bSet).map((r) => [r.example, r]));
      const counts = { both_right: 0, only_a_right: 0, only_b_right: 0, both_wrong: 0 };
      const rows = [];
      for (const ra of predictionRows(p.a, p.set).sort((x, y) => x.example - y.example)) {
        const rb = b.get(ra.example);
        if (!rb) continue;
        const aRight = ra.predicted === ra.label, bRight = rb.predicted === rb.label;
        counts[aRight ? (bRight ? 'both_right' : 'only_a_right') : (bRight ? 'only_b_right' : 'both_wrong')]++;
        const keep = p.which === 'a' ? aRight && !bRight : p.which === 'b' ? !aRight && bRight : aRight !== bRight;
        if (keep) {
          rows.push({ example: ra.example, label: ra.label, a_predicted: ra.predicted, a_confidence: ra.confidence,
            b_predicted: rb.predicted, b_confidence: rb.confidence, image: ra.image, b_image: rb.image });
        }
      }
      const page = +p.page || 0, size = +p.size || 50;
      return { a: p.a, b: p.b, which: p.which, counts, total: rows.length, page, size,
        rows: rows.slice(page * size, (page + 1) * size) };
    }
    case 'tables':
      return (REPORT.tables?.[p.run] ?? []).map((t) => ({ name: t.name, columns: t.columns, rows: t.total }));
    case 'table': return reportTable(p);
    default: throw new Error('unknown endpoint ' + endpoint);
  }
}

/** A page of a typed table from the report's embedded rows, as the server's 'table' answers. */
function reportTable(p) {
  // one run's table, or merged: the rows of every listed run that has it, run by run
  const runs = p.run.split(',');
  const found = runs.map((run) => [run, (REPORT.tables?.[run] ?? []).find((x) => x.name === p.name)])
    .filter(([, t]) => t);
  if (!found.length) throw new Error(`run ${p.run} has no table '${p.name}'`);
  const t = found[0][1];
  const same = ([, x]) => JSON.stringify(x.columns) === JSON.stringify(t.columns);
  const tables = found.filter(same);
  const at = (name) => t.columns.findIndex((c) => c.name === name);
  let rows = tables.flatMap(([run, x]) => x.rows.map((values, i) => ({ run, row: i, values })));
  if (p.column) {
    const c = at(p.column), number = t.columns[c]?.type === 'number';
    rows = rows.filter((r) => (number ? r.values[c] === +p.value : String(r.values[c]) === p.value));
  }
  if (p.sort) {
    const c = at(p.sort), sign = p.order === 'desc' ? -1 : 1;
    // a stable sort: ties keep the runs' order and their rows'
    rows = [...rows].sort((a, b) => sign * naturalOrder(a.values[c] ?? -Infinity, b.values[c] ?? -Infinity));
  }
  const page = +p.page || 0, size = +p.size || 20;
  const kept = tables.some(([, x]) => x.rows.length < x.total)
    ? { kept: tables.reduce((n, [, x]) => n + x.rows.length, 0), of: tables.reduce((n, [, x]) => n + x.total, 0) }
    : null;
  return { runs: tables.map(([run]) => run), other_columns: found.filter((f) => !same(f)).map(([run]) => run),
    name: p.name, columns: t.columns, total: rows.length, page, size, kept,
    rows: rows.slice(page * size, (page + 1) * size) };
}

/** A run's embedded predictions on test set `set` ('' or undefined: the run's own). */
function predictionsOf(run, set) {
  return set ? REPORT.shifted?.[run]?.predictions[set] : REPORT.predictions[run];
}

function predictionRows(run, set) {
  const stored = predictionsOf(run, set);
  if (!stored) return [];
  return stored.rows.map(([example, label, predicted, confidence, image]) => ({ example, label, predicted, confidence, image }));
}

// ------------------------------------------------------------------ state and status

const state = {
  allRuns: [], runs: [], keys: { metrics: [], config: [], summary: [] },
  selected: new Set(), sort: null, order: 'asc', view: 'runs',
  pred: { page: 0, predicted: null, label: null }, cmp: { page: 0 }, tbl: { page: 0, sort: null, order: 'asc' },
  charts: new Map(), parallel: null, versus: null, confusion: null, firstLoad: true,
};

function setStatus(text, isError = false) {
  const s = $('status');
  s.textContent = text;
  s.className = isError ? 'error' : '';
}

function showError(e) {
  setStatus('error: ' + (e && e.message ? e.message : e), true);
}

// ------------------------------------------------------------------ runs table

function runFilters() {
  const p = {
    group: $('f-group').value, norm: $('f-norm').value, status: $('f-status').value,
    tag: $('f-tag').value.trim(), sort: state.sort, order: state.order,
  };
  const key = $('f-config-key').value, value = $('f-config-value').value.trim();
  if (key && value) p['config.' + key] = value;
  return p;
}

// Different in every run by construction, or where it ran rather than what it trained (env.*:
// the comparer shows them), so never a column or an axis.
const RUN_SPECIFIC = /(^|\.)(checkpoint_dir|data_dir)$|^env\./;

/** Whether config key {@code k} takes more than one value over {@code runs}. */
function configVaries(runs, k) {
  return new Set(runs.map((r) => JSON.stringify(r.config[k] ?? null))).size > 1;
}

/**
 * Fills a multi-select of metric keys: the headline keys first and selected, the rest one click
 * away (all selected when none of the headline keys exist); the user's choices are kept across
 * refills. Returns the selected keys, in order.
 */
function fillKeySelect(select, keys, headlineKeys) {
  const before = new Map([...select.options].map((o) => [o.value, o.selected]));
  const headline = headlineKeys.filter((k) => keys.includes(k));
  const ordered = [...headline, ...keys.filter((k) => !headline.includes(k))];
  const shown = (k) => before.has(k) ? before.get(k) : headline.length === 0 || headline.includes(k);
  // --watch's fifty-odd diagnostics come in groups (watch/act_std, watch/grad_norm, ...), the
  // process's in one (system)
  const groups = new Map();
  const children = [];
  for (const k of ordered) {
    const option = new Option(k, k, shown(k), shown(k));
    const group = metricGroup(k);
    if (!group) { children.push(option); continue; }
    if (!groups.has(group)) children.push(groups.set(group, el('optgroup', { label: group })).get(group));
    groups.get(group).append(option);
  }
  select.replaceChildren(...children);
  return ordered.filter(shown);
}

/** The metrics the page's link names, if any of them is among {@code keys}; else {@code defaults}. */
function linkedOr(keys, defaults) {
  const linked = (state.linkedMetrics || []).filter((k) => keys.includes(k));
  return linked.length ? linked : defaults;
}

/**
 * The group of a --watch key ('watch/act_std' for 'watch/act_std/conv2'), of a system metric
 * ('system') or of `normlab robustness`'s accuracies ('robustness'); null for others.
 */
function metricGroup(key) {
  if (key.startsWith('system/')) return 'system';
  if (key.startsWith('robustness/')) return 'robustness';
  const m = /^(watch\/[^/]+)\//.exec(key);
  return m ? m[1] : null;
}

// Of the grouped keys, the robustness accuracies (results) and the process's peak memory get
// runs-table columns.
const isSummaryColumn = (k) => !metricGroup(k) || metricGroup(k) === 'robustness' || k === 'system/peak_rss_mib';

const FIXED_CONFIG_COLUMNS = new Set(['norm', 'optimizer', 'lr', 'batch_size']);

/** A column for each other config key whose value differs between the listed runs (a sweep's). */
function varyingConfigColumns() {
  return state.keys.config
    .filter((k) => !FIXED_CONFIG_COLUMNS.has(k) && !RUN_SPECIFIC.test(k) && configVaries(state.runs, k))
    .map((k) => ({ title: k, sort: 'config.' + k, value: (r) => r.config[k],
      num: state.runs.some((r) => typeof r.config[k] === 'number') }));
}

// robustness's columns: clean, the shifts, then Batch Norm's adapted ones (clean first again);
// the sort is stable, so each rank keeps the store's key order
const robustnessRank = (k) => !k.startsWith('robustness/') ? 4
  : (k.startsWith('robustness/adapted/') ? 2 : 0) + (/\/clean$/.test(k) ? 0 : 1);

function runColumns() {
  // --watch's and the system's diagnostics are for charts and parallel axes, not fifty more columns
  // (the robustness accuracies, clean first, and the peak memory after the run's results)
  const keys = state.keys.summary;
  const summary = [...keys.filter((k) => !metricGroup(k)), ...keys.filter((k) => metricGroup(k) && isSummaryColumn(k)).sort((a, b) => robustnessRank(a) - robustnessRank(b))].map((k) => ({ title: k, sort: 'summary.' + k, value: (r) => r.summary[k], num: true }));
  return [
    { title: 'name', sort: 'name', value: (r) => r.name },
    { title: 'id', sort: 'id', value: (r) => r.id },
    { title: 'status', sort: 'status', value: (r) => (r.stale ? r.status + ' (stale)' : r.status) },
    { title: 'norm', sort: 'config.norm', value: (r) => r.config.norm },
    { title: 'optimizer', sort: 'config.optimizer', value: (r) => r.config.optimizer },
    { title: 'lr', sort: 'config.lr', value: (r) => r.config.lr, num: true },
    { title: 'batch', sort: 'config.batch_size', value: (r) => r.config.batch_size, num: true },
    ...varyingConfigColumns(),
    { title: 'tags', sort: null, value: (r) => r.tags },
    // notes set with `normlab runs note`, when a listed run has some
    ...(state.runs.some((r) => r.notes) ? [{ title: 'notes', sort: null, value: (r) => r.notes }] : []),
    { title: 'group', sort: 'group', value: (r) => r.group },
    { title: 'started', sort: 'started_at', value: (r) => new Date(r.started_at * 1000).toLocaleString() },
    { title: 'runtime', sort: null, value: (r) => duration(r.runtime), num: true },
    ...summary,
  ];
}

function renderRunsTable() {
  const cols = runColumns();
  const head = $('runs-table').tHead.rows[0];
  const all = el('input', { type: 'checkbox', title: 'select all shown runs',
    checked: state.runs.length > 0 && state.runs.every((r) => state.selected.has(r.id)),
    onchange: (e) => {
      for (const r of state.runs) e.target.checked ? state.selected.add(r.id) : state.selected.delete(r.id);
      renderRunsTable(); selectionChanged();
    } });
  head.replaceChildren(el('th', {}, all), ...cols.map((c) => {
    const th = el('th', {}, c.title);
    if (c.sort) {
      th.classList.add('sortable');
      if (state.sort === c.sort) th.classList.add(state.order === 'desc' ? 'sorted-desc' : 'sorted-asc');
      th.addEventListener('click', () => {
        state.order = state.sort === c.sort && state.order === 'asc' ? 'desc' : 'asc';
        state.sort = c.sort;
        loadRuns().catch(showError);
      });
    }
    return th;
  }));
  const body = $('runs-table').tBodies[0];
  body.replaceChildren(...state.runs.map((r) => {
    const box = el('input', { type: 'checkbox', checked: state.selected.has(r.id), onchange: (e) => {
      e.target.checked ? state.selected.add(r.id) : state.selected.delete(r.id);
      selectionChanged();
    } });
    return el('tr', { dataset: { run: r.id } }, el('td', {}, box),
      ...cols.map((c) => el('td', { class: (c.num ? 'num ' : '') + (c.title === 'status' ? 'status-' + r.status : ''),
        // a failed run says why when its status is pointed at
        title: c.title === 'status' && r.error ? r.error : '' }, fmt(c.value(r)))));
  }));
  if (state.runs.length === 0) body.append(el('tr', {}, el('td', { colSpan: cols.length + 1, class: 'hint' }, 'no runs match')));
}

let runsRequest = 0;

async function loadRuns() {
  const request = ++runsRequest;
  const allRuns = await api('runs');
  const runs = await api('runs', runFilters());
  if (request !== runsRequest) return; // a newer filter is on its way: drop this answer
  state.allRuns = allRuns;
  state.runs = runs;
  if (state.firstLoad) {
    // the runs a link names (by id or name), else the first ten
    const linked = state.runs.filter((r) => (state.linkedRuns || []).some((x) => x === r.id || x === r.name));
    (linked.length ? linked : state.runs.slice(0, 10)).forEach((r) => state.selected.add(r.id));
    state.firstLoad = false;
  }
  const known = new Set(state.allRuns.map((r) => r.id));
  for (const id of [...state.selected]) if (!known.has(id)) state.selected.delete(id);
  renderRunsTable();
  fillSelect($('f-norm'), [...new Set(state.allRuns.map((r) => r.config.norm).filter((v) => v !== undefined).map(String))], 'all');
  fillRunSelects();
}

function fillSelect(select, values, emptyLabel) {
  const current = select.value;
  const options = values.map((v) => new Option(v, v));
  if (emptyLabel !== undefined) options.unshift(new Option(emptyLabel, ''));
  select.replaceChildren(...options);
  if ([...select.options].some((o) => o.value === current)) select.value = current;
}

function selectionChanged() {
  if (state.view === 'runs') renderCharts().catch(showError);
  if (state.view === 'compare') renderComparer();
}

// ------------------------------------------------------------------ line charts

function smooth(points, weight) {
  if (!weight) return points;
  let last = 0;
  return points.map(([x, y], i) => {
    last = last * weight + (1 - weight) * y;
    return [x, last / (1 - Math.pow(weight, i + 1))]; // debiased EMA, as TensorBoard does
  });
}

function chartKeys() {
  return [...$('c-keys').selectedOptions].map((o) => o.value);
}

/** What every metric chart shares: title, tooltip, legend, margins, the x axis and a y axis. */
function chartFrame(title, x, yType) {
  return {
    animation: false,
    title: { text: title, left: 'center', textStyle: { fontSize: 13 } },
    tooltip: { trigger: 'axis', renderMode: 'richText' },
    legend: { type: 'scroll', bottom: 0 },
    grid: { left: 60, right: 20, top: 32, bottom: 56 },
    xAxis: {
      // an lr range test's lr grows exponentially: decades apart
      type: x === 'lr' ? 'log' : 'value', name: x, nameLocation: 'middle', nameGap: 24, min: 'dataMin', max: 'dataMax',
      // the first epoch's first step is at 0.05, not 0.04999…; a log axis's decades read 1e-6
      axisLabel: { formatter: (v) => fmt(v).replace(/\.?0+e/, 'e') },
    },
    yAxis: { type: yType, scale: true },
  };
}

async function renderCharts() {
  const keys = chartKeys();
  const container = $('charts');
  for (const [key, chart] of state.charts) {
    if (!keys.includes(key)) { chart.dispose(); state.charts.delete(key); }
  }
  for (const div of [...container.children]) if (!keys.includes(div.dataset.key)) div.remove();
  const runs = [...state.selected];
  const x = $('c-x').value, weight = +$('c-smooth').value, log = $('c-log').checked;
  const by = $('c-group').value;
  await Promise.all(keys.map(async (key) => {
    let chart = state.charts.get(key);
    if (!chart) {
      const div = el('div', { class: 'chart', dataset: { key } });
      container.append(div);
      chart = echarts.init(div, null, { renderer: 'canvas' });
      state.charts.set(key, chart);
    }
    const width = chart.getDom().clientWidth || 600;
    const maxPoints = Math.max(100, Math.min(2000, width));
    if (DIST.test(key)) {
      chart.setOption(await distributionOption(key, runs, x, maxPoints), true);
      return;
    }
    const data = runs.length
      ? await api('metrics', { run: runs.join(','), key, x, max_points: maxPoints })
      : { series: [] };
    chart.setOption({
      ...chartFrame(key, x, log ? 'log' : 'value'),
      series: by ? groupedSeries(data.series, by, weight, log) : data.series.map((s) => ({
        type: 'line', name: runLabel(s.run), showSymbol: s.points.length < 30,
        data: smooth(s.points, weight).filter(([, y]) => !log || y > 0),
      })),
    }, true);
  }));
}

const PALETTE = ['#5470c6', '#91cc75', '#fac858', '#ee6666', '#73c0de', '#3ba272', '#fc8452', '#9a60b4', '#ea7ccc'];

// A distribution chart: watch/act_dist/<point> stands for the point's percentile metrics.
const DIST = /^watch\/act_dist\/(.+)$/;
const PERCENTILES = ['05', '25', '50', '75', '95'];

/** The distribution keys the percentile metrics make possible, one per watched activation. */
function distributionKeys(metricKeys) {
  return metricKeys.map((k) => /^watch\/act_p50\/(.+)$/.exec(k)).filter(Boolean).map((m) => 'watch/act_dist/' + m[1]);
}

/**
 * Each run's activation distribution over the steps, as TensorBoard draws one: its median as a line,
 * the 25th to 75th percentile as a darker band, the 5th to 95th as a lighter one, in the run's colour.
 */
async function distributionOption(key, runs, x, maxPoints) {
  const point = DIST.exec(key)[1];
  const byPercentile = await Promise.all(PERCENTILES.map((p) => runs.length
    ? api('metrics', { run: runs.join(','), key: `watch/act_p${p}/${point}`, x, max_points: maxPoints })
    : { series: [] }));
  const pointsOf = (p, run) => {
    const s = byPercentile[PERCENTILES.indexOf(p)].series.find((q) => q.run === run);
    return s ? s.points.filter(([, y]) => y !== null) : [];
  };
  const band = (run, color, lo, hi, opacity) => {
    const lower = pointsOf(lo, run), upper = pointsOf(hi, run);
    return {
      type: 'custom', name: runLabel(run), silent: true, tooltip: { show: false }, z: 1,
      data: [...lower, ...upper], encode: { x: 0, y: 1 }, // both edges: the axes' extent
      renderItem: (params, api) => params.dataIndex > 0 || !lower.length ? null : {
        type: 'polygon',
        shape: { points: [...lower, ...upper.slice().reverse()].map((p) => api.coord(p)) },
        style: { fill: color, opacity },
      },
    };
  };
  return {
    ...chartFrame(`${key} (median, 25–75th and 5–95th percentile)`, x, 'value'),
    series: runs.flatMap((run, i) => {
      const color = PALETTE[i % PALETTE.length];
      return [
        band(run, color, '05', '95', 0.12),
        band(run, color, '25', '75', 0.25),
        { type: 'line', name: runLabel(run), color, showSymbol: false, z: 2, data: pointsOf('50', run) },
      ];
    }),
  };
}

/**
 * Runs that share a value of config key `by` (one norm over several seeds, say) as one line, their
 * mean, with thin lines of the same colour at the lowest and highest run: the spread a difference
 * between groups is to be held against.
 */
function groupedSeries(series, by, weight, log) {
  const groups = new Map();
  for (const s of series) {
    const r = state.allRuns.find((q) => q.id === s.run);
    const v = r && r.config[by] !== undefined && r.config[by] !== null ? String(r.config[by]) : '–';
    if (!groups.has(v)) groups.set(v, []);
    groups.get(v).push(smooth(s.points.filter(([, y]) => y !== null), weight));
  }
  const keep = ([, y]) => !log || y > 0;
  return [...groups].flatMap(([v, runs], g) => {
    const rows = aggregate(runs);
    const name = `${by}=${v} (${runs.length} run${runs.length === 1 ? '' : 's'})`;
    const color = PALETTE[g % PALETTE.length];
    const mean = { type: 'line', name, color, showSymbol: rows.length < 30, data: rows.map((p) => [p.x, p.mean]).filter(keep) };
    if (runs.length < 2) return [mean];
    const edge = (which) => ({
      type: 'line', name, color, symbol: 'none', silent: true, tooltip: { show: false },
      lineStyle: { width: 1, opacity: 0.45 }, data: rows.map((p) => [p.x, p[which]]).filter(keep),
    });
    return [mean, edge('min'), edge('max')];
  });
}

/**
 * Mean, lowest and highest y of the runs at every x any of them has, each run's y linearly
 * interpolated between its own points: the server downsamples each run on its own, so the runs'
 * points need not share their x. A run counts only within its own x range.
 */
function aggregate(runs) {
  const grid = [...new Set(runs.flatMap((points) => points.map(([x]) => x)))].sort((a, b) => a - b);
  const at = runs.map(() => 0); // each run's point at or before the current x
  const out = [];
  for (const x of grid) {
    const ys = [];
    runs.forEach((points, r) => {
      if (!points.length || x < points[0][0] || x > points[points.length - 1][0]) return;
      let i = at[r];
      while (i + 1 < points.length && points[i + 1][0] <= x) i++;
      at[r] = i;
      const [x0, y0] = points[i];
      if (x0 === x || i + 1 === points.length) ys.push(y0);
      else ys.push(y0 + ((points[i + 1][1] - y0) * (x - x0)) / (points[i + 1][0] - x0));
    });
    out.push({ x, mean: ys.reduce((s, y) => s + y, 0) / ys.length, min: Math.min(...ys), max: Math.max(...ys) });
  }
  return out;
}

// ------------------------------------------------------------------ parallel coordinates

const ALWAYS_AXES = /(^|\.)(norm|lr|batch_size)$/;
const PARALLEL_METRICS = ['test/accuracy', 'test/loss'];

/**
 * A value axis; logarithmic for positive values spanning 20x or more (a swept lr), whole numbers
 * only for integer values (seeds, batch sizes).
 */
function numericAxis(values) {
  const min = Math.min(...values), max = Math.max(...values);
  if (min > 0 && max / min >= 20) return { type: 'log', scale: true, axisLabel: { formatter: (v) => fmt(v) } };
  return values.every(Number.isInteger) ? { type: 'value', scale: true, minInterval: 1 } : { type: 'value', scale: true };
}

async function renderParallel() {
  const data = await api('parallel', $('f-group').value ? { group: $('f-group').value } : {});
  const runs = data.runs;
  const dims = [
    // The axes the comparison is about stay even when constant; other config keys when they vary.
    ...data.keys.config.filter((k) => !RUN_SPECIFIC.test(k) && (ALWAYS_AXES.test(k) || configVaries(runs, k)))
      .sort((a, b) => (b === 'norm') - (a === 'norm')).map((k) => ({ k, of: 'config' })),
    ...fillKeySelect($('p-keys'), data.keys.summary, linkedOr(data.keys.summary, PARALLEL_METRICS)).map((k) => ({ k, of: 'summary' })),
  ];
  const axes = dims.map((d, i) => {
    const values = runs.map((r) => r[d.of][d.k]).filter((v) => v !== undefined && v !== null);
    d.categorical = values.some((v) => typeof v !== 'number');
    return d.categorical
      ? { id: d.of + '.' + d.k, dim: i, name: d.k, type: 'category', data: [...new Set(values.map(String))] }
      : { id: d.of + '.' + d.k, dim: i, name: d.k, ...numericAxis(values) };
  });
  const rows = runs.map((r) => dims.map((d) => {
    const v = r[d.of][d.k];
    return v === undefined || v === null ? '-' : d.categorical ? String(v) : v;
  }));
  const numeric = dims.map((d, i) => ({ d, i })).filter(({ d }) => !d.categorical);
  fillSelect($('p-color'), numeric.map(({ d }) => d.k));
  if (!state.colourChosen && numeric.length) {
    // an accuracy, else the first result drawn (a config axis such as batch_size may not vary)
    const acc = numeric.find(({ d }) => d.k.includes('accuracy')) || numeric.find(({ d }) => d.of === 'summary');
    $('p-color').value = (acc || numeric[0]).d.k;
  }
  const colour = numeric.find(({ d }) => d.k === $('p-color').value);
  const colourValues = colour ? rows.map((r) => r[colour.i]).filter((v) => typeof v === 'number') : [];
  if (!state.parallel) {
    state.parallel = echarts.init($('parallel-chart'));
    state.parallel.on('axisareaselected', () => {
      const series = state.parallel.getModel().getSeries()[0];
      const active = series.getRawIndicesByActiveState('active');
      $('p-selected').textContent = active.map((i) => runLabel(state.parallelRuns[i].id)).join(', ') || 'none';
    });
  }
  state.parallelRuns = runs;
  $('p-selected').textContent = 'all';
  state.parallel.setOption({
    animation: false,
    parallelAxis: axes,
    parallel: { left: 80, right: 110, top: 40, bottom: 40 },
    visualMap: colour && colourValues.length ? {
      type: 'continuous', dimension: colour.i, calculable: true, right: 10, top: 'middle', formatter: (v) => fmt(v),
      min: Math.min(...colourValues), max: Math.max(...colourValues) + (new Set(colourValues).size === 1 ? 1e-9 : 0),
      inRange: { color: ['#d7301f', '#fdcc8a', '#2c7fb8'] },
    } : undefined,
    tooltip: { renderMode: 'richText' },
    series: [{ type: 'parallel', lineStyle: { width: 2.5, opacity: 0.85 }, data: rows,
      emphasis: { lineStyle: { width: 4 } } }],
  }, true);
  state.parallelSummaryKeys = data.keys.summary;
  await renderImportance(runs, data.keys.summary);
}

// ------------------------------------------------------------------ parameter importance

/**
 * The parameter-importance panel under the parallel plot, for the chosen result (test accuracy
 * unless the user picked another): a row per config parameter that varies, by importance, with
 * its rank correlation and, for words, each value's mean result; a parameter's name opens metric
 * vs config against it.
 */
async function renderImportance(runs, summaryKeys) {
  // a report holds the importance of its results (not of --watch's diagnostics)
  const numeric = REPORT ? Object.keys(REPORT.importance || {})
    : summaryKeys.filter((k) => runs.some((r) => typeof r.summary[k] === 'number'));
  const select = $('p-imp-metric');
  const before = select.value;
  fillSelect(select, numeric);
  if (!before || !numeric.includes(before)) {
    select.value = numeric.includes('test/accuracy') ? 'test/accuracy' : numeric[0] || '';
  }
  const metric = select.value;
  const body = $('imp-table').tBodies[0];
  if (!metric) {
    $('imp-note').textContent = 'no run has a result yet';
    body.replaceChildren();
    state.importanceDrawn = null;
    return;
  }
  const group = $('f-group').value;
  // the live refresh redraws the plot every few seconds: ask for a new forest only when the runs
  // or their values of the result have changed
  const drawn = JSON.stringify([group, metric, runs.map((r) => [r.id, r.summary[metric] ?? null])]);
  if (drawn === state.importanceDrawn) return;
  const res = await api('importance', group ? { group, metric } : { metric });
  if (select.value !== metric) return; // a newer choice is drawing
  state.importanceDrawn = drawn;
  const leftOut = Object.entries(res.left_out || {}).map(([k, why]) => `${k} (${why})`);
  $('imp-note').textContent = res.reason ? res.reason : [
    `random forest over ${res.runs} runs` + (res.runs_without_metric ? ` (${res.runs_without_metric} without ${metric} left out)` : ''),
    res.oob_r2 === null ? 'too few runs to say how much it explains'
      : `it explains ${Math.round(Math.max(0, res.oob_r2) * 100)} % of ${metric}'s variance on runs it did not see (out-of-bag R² ${res.oob_r2.toFixed(2)})`
      + (res.oob_r2 < 0.3 ? ': little, so read the shares with care' : ''),
    leftOut.length ? 'not ranked: ' + leftOut.join(', ') : null,
  ].filter(Boolean).join('; ');
  body.replaceChildren(...res.parameters.map((p) => {
    const share = el('span', { class: 'fill' });
    share.style.width = `${Math.round(p.importance * 120)}px`;
    const corr = el('span', { class: 'axis' });
    if (p.correlation !== null) {
      const f = el('span', { class: 'fill ' + (p.correlation < 0 ? 'neg' : 'pos') });
      f.style.width = `${Math.abs(p.correlation) * 60}px`;
      f.style.left = `${p.correlation < 0 ? 60 - Math.abs(p.correlation) * 60 : 60}px`;
      corr.append(f);
    }
    const values = p.numeric
      ? `${fmt(p.min)} … ${fmt(p.max)}` + (p.missing ? `, absent in ${p.missing} runs` : '')
      : p.values.map((v) => `${v.value} ${fmt(v.mean)} (${v.runs})`).join(' · ');
    return el('tr', { dataset: { key: p.key } },
      el('td', { class: 'bar' }, share, p.importance.toFixed(2)),
      el('td', {}, el('a', {
        href: `#versus?x=${encodeURIComponent(p.key)}&metrics=${encodeURIComponent(metric)}`,
        title: `${metric} against ${p.key} (metric vs config)`,
        onclick: (e) => {
          e.preventDefault();
          // the result against this parameter, a line per norm unless the parameter is the norm
          state.linkedVersus = { x: p.key, by: p.key === 'norm' ? '' : 'norm', metrics: [metric] };
          state.versusDrawn = false;
          show('versus');
        },
      }, p.key)),
      el('td', { class: 'bar' }, corr, p.correlation === null ? '—' : p.correlation.toFixed(2)),
      el('td', {}, values));
  }));
}

// ------------------------------------------------------------------ metric vs config

// numbers by value (0.003 before 0.01), words alphabetically (with numbers in them by value)
const naturalOrder = (a, b) => typeof a === 'number' && typeof b === 'number' ? a - b
  : String(a).localeCompare(String(b), undefined, { numeric: true });

/**
 * One line of the metric-vs-config plot from its runs' [x, y] pairs: at each x (ascending; words
 * alphabetically) the runs' count, mean, lowest and highest y — several seeds of one setting become
 * one point.
 */
function versusPoints(pairs) {
  const byX = new Map();
  for (const [x, y] of pairs) {
    if (!byX.has(x)) byX.set(x, []);
    byX.get(x).push(y);
  }
  return [...byX.entries()].sort((a, b) => naturalOrder(a[0], b[0])).map(([x, ys]) => ({
    x, n: ys.length, mean: ys.reduce((sum, y) => sum + y, 0) / ys.length,
    min: Math.min(...ys), max: Math.max(...ys),
  }));
}

/**
 * The plot's x axis over the data's range; a log axis in powers of two when every x is one (batch
 * sizes 1, 2, 4, ..., 64: a tick at each), else in decades.
 */
function versusXAxis(xs, name) {
  const axis = xs.length ? numericAxis(xs) : { type: 'value' };
  if (axis.type === 'log' && xs.every((v) => Number.isInteger(Math.log2(v)))) axis.logBase = 2;
  return { ...axis, name, nameLocation: 'middle', nameGap: 26, min: 'dataMin', max: 'dataMax' };
}

// The x a sweep is usually about, before any other numeric key that varies; without one, the norm.
const VERSUS_X = ['batch_size', 'lr', 'optimizer.lr', 'groups'];

// normlab robustness's shifts with an amount, and the amount that leaves an image as it is: the
// clean accuracy is the curve's point there
const SHIFT_IDENTITY = { brightness: 1, contrast: 1, noise: 0 };

/**
 * The shift-severity axes the runs' summaries allow: `shift:brightness` when some run has a
 * robustness/brightness_<amount> result (`shift:adapted/brightness` for Batch Norm's adapted ones).
 */
function shiftAxes(summaryKeys) {
  const axes = new Set();
  for (const k of summaryKeys) {
    const m = /^robustness\/((?:adapted\/)?(brightness|contrast|noise))_[0-9.e+-]+$/.exec(k);
    if (m) axes.add('shift:' + m[1]);
  }
  return [...axes].sort();
}

/**
 * A run's accuracies on a shift's amounts, as [amount, accuracy] pairs: each robustness/<shift>_<amount>
 * result, and the clean accuracy at the amount that changes nothing.
 */
function shiftCurve(summary, shift) {
  const prefix = `robustness/${shift}_`;
  const points = Object.entries(summary)
    .filter(([k, v]) => k.startsWith(prefix) && typeof v === 'number' && Number.isFinite(+k.slice(prefix.length)))
    .map(([k, v]) => [+k.slice(prefix.length), v]);
  const clean = summary[shift.startsWith('adapted/') ? 'robustness/adapted/clean' : 'robustness/clean'];
  if (points.length && typeof clean === 'number') points.push([SHIFT_IDENTITY[shift.replace('adapted/', '')], clean]);
  return points;
}

/**
 * A summary metric against a config key, a line per value of another key (norm): the Group Norm
 * paper's error-against-batch-size figure, or a learning-rate sweep's curve per norm. Against a
 * key of words (norm, optimizer) each value's mean is a diamond over its runs' dots, no line: a
 * comparison over seeds shows each norm's spread.
 */
async function renderVersus() {
  const data = await api('parallel', $('f-group').value ? { group: $('f-group').value } : {});
  const runs = data.runs;
  const varying = data.keys.config.filter((k) => !RUN_SPECIFIC.test(k) && configVaries(runs, k));
  const isNumeric = (k) => runs.every((r) => r.config[k] == null || typeof r.config[k] === 'number');
  const numeric = varying.filter((k) => k !== 'seed' && isNumeric(k));
  const summary = data.keys.summary.filter((k) => !k.startsWith('watch/'));
  const shifts = shiftAxes(summary);
  fillSelect($('v-x'), [...varying, ...shifts]);
  for (const o of $('v-x').options) {
    if (o.value.startsWith('shift:')) o.text = `robustness: ${o.value.slice(6).replace('/', ' ')} (accuracy on shifted images)`;
  }
  fillSelect($('v-y'), summary);
  fillSelect($('v-by'), varying, 'nothing (one line)');
  if (!state.versusDrawn) {
    // the first drawing: the link's choices (#versus?x=lr&metrics=test/loss&by=norm), else the
    // sweep's usual x, test accuracy and a line per norm; later refills keep the user's picks
    state.versusDrawn = true;
    const linked = state.linkedVersus || {};
    $('v-x').value = varying.includes(linked.x) || shifts.includes(linked.x) ? linked.x
      : VERSUS_X.find((k) => numeric.includes(k)) || numeric[0] || (varying.includes('norm') ? 'norm' : varying[0] || '');
    $('v-y').value = (linked.metrics || []).find((k) => summary.includes(k)) || (summary.includes('test/accuracy') ? 'test/accuracy' : summary[0] || '');
    $('v-by').value = linked.by === '' || varying.includes(linked.by) ? linked.by : varying.includes('norm') ? 'norm' : '';
  }
  const x = $('v-x').value, by = $('v-by').value;
  // against a shift's amount the y is the accuracy on the shifted images: no metric to pick
  const shift = x.startsWith('shift:') ? x.slice(6) : null;
  $('v-y').disabled = shift !== null;
  const key = shift ? 'accuracy (%)' : $('v-y').value;
  const xName = shift ? `${shift} ${shift.endsWith('noise') ? 'σ' : 'factor'}` : x;
  const categorical = !shift && x !== '' && !isNumeric(x);
  if (!state.versus) state.versus = echarts.init($('versus-chart'));
  const lines = new Map(); // the by-value's label -> its runs' [x, y, name]
  const byValue = new Map(); // the label -> the value it names, for the order of the lines
  for (const r of runs) {
    let points;
    if (shift) {
      points = shiftCurve(r.summary, shift);
    } else {
      const xv = categorical && r.config[x] != null ? String(r.config[x]) : r.config[x], yv = r.summary[key];
      points = xv == null || typeof yv !== 'number' ? [] : [[xv, yv]]; // a diverged run has no result
    }
    if (!points.length) continue;
    const label = by ? `${by}=${r.config[by] ?? '-'}` : key;
    byValue.set(label, by ? r.config[by] ?? '' : '');
    if (!lines.has(label)) lines.set(label, []);
    for (const [xv, yv] of points) lines.get(label).push([xv, yv, r.name]);
  }
  const labels = [...lines.keys()].sort((a, b) => naturalOrder(byValue.get(a), byValue.get(b)));
  const xs = [...lines.values()].flat().map((p) => p[0]);
  const series = labels.flatMap((label, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const points = versusPoints(lines.get(label));
    const means = points.map((p) => [p.x, p.mean, p.n, p.min, p.max]);
    return [
      categorical
        ? { type: 'scatter', name: label, itemStyle: { color: colour }, symbol: 'diamond', symbolSize: 16, z: 2, clip: false, data: means }
        : { type: 'line', name: label, itemStyle: { color: colour }, lineStyle: { color: colour, width: 2 }, symbol: 'none', z: 2, data: means },
      // not clipped: a dot on the axis's end (x = its largest value) may fall a rounding error outside
      { type: 'scatter', name: label, itemStyle: { color: colour, opacity: 0.8 }, symbolSize: 7, z: 3, clip: false, data: lines.get(label) },
    ];
  });
  state.versus.setOption({
    animation: false,
    title: {
      text: shift ? `accuracy (%) on shifted test images against the ${xName}`
        : x && key ? `${key} against ${x}` : 'no config key varies here',
      left: 'center', textStyle: { fontSize: 13 },
    },
    tooltip: {
      trigger: 'item', renderMode: 'richText',
      // a run's dot is [x, y, name]; a mean [x, mean, runs, lowest, highest]
      formatter: (p) => p.data.length === 3
        ? `${p.data[2]}\n${xName} ${fmt(p.data[0])}: ${fmt(p.data[1])}`
        : `${p.seriesName}, ${xName} ${fmt(p.data[0])}: mean ${fmt(p.data[1])} of ${p.data[2]} run${p.data[2] === 1 ? '' : 's'}`
          + (p.data[2] > 1 ? ` (${fmt(p.data[3])}–${fmt(p.data[4])})` : ''),
    },
    legend: { type: 'scroll', bottom: 0 },
    grid: { left: 70, right: 30, top: 40, bottom: 60 },
    xAxis: categorical
      ? { type: 'category', data: [...new Set(xs)].sort(naturalOrder), name: x, nameLocation: 'middle', nameGap: 26 }
      : versusXAxis(xs, xName),
    yAxis: { type: 'value', scale: true, name: key },
    series,
  }, true);
}

// ------------------------------------------------------------------ predictions

function fillRunSelects() {
  for (const select of [$('pr-run'), $('cp-run'), $('tb-run')]) {
    const current = select.value;
    const options = state.allRuns.map((r) => new Option(`${r.name} (${r.id})`, r.id));
    if (select === $('cp-run')) options.unshift(new Option('—', ''));
    select.replaceChildren(...options);
    if ([...select.options].some((o) => o.value === current)) select.value = current;
  }
}

/** A class as its number, and its name when the dataset has names (Fashion-MNIST: 7 Sneaker). */
function className(k, names) {
  const name = names?.[k];
  return name === undefined || name === null ? String(k) : `${k} ${name}`;
}

function thumb(run, row, set) {
  return el('img', { class: 'thumb', src: imageUrl(run, row, set), alt: `example ${row.example}`, width: 28, height: 28 });
}

/**
 * Fills the test-set choice with the run's own predictions and the shifted sets normlab robustness
 * stored for it; keeps the current choice when the run has it. Returns the chosen set.
 */
async function fillSetSelect(run) {
  const select = $('pr-set');
  const wanted = state.linkedPrediction?.set ?? select.value;
  const sets = await api('prediction-sets', { run });
  const percent = (a) => (a === null || a === undefined ? '' : ` (${a.toFixed(2)} %)`);
  select.replaceChildren(new Option('as trained: the final model on the test set', ''),
    ...sets.map((s) => new Option(`${s.shift}${percent(s.accuracy)}`, s.shift)));
  select.value = sets.some((s) => s.shift === wanted) ? wanted : '';
  select.disabled = sets.length === 0;
  select.title = sets.length ? '' : 'normlab robustness stores predictions on shifted test images';
  return select.value;
}

function pager(container, page, size, total, go) {
  const pages = Math.max(1, Math.ceil(total / size));
  container.replaceChildren(
    el('button', { type: 'button', disabled: page <= 0, onclick: () => go(page - 1), class: 'prev' }, '‹ prev'),
    el('span', {}, `page ${page + 1} of ${pages} (${total} rows)`),
    el('button', { type: 'button', disabled: page >= pages - 1, onclick: () => go(page + 1), class: 'next' }, 'next ›'));
}

async function loadPredictions() {
  const linked = state.linkedPrediction;
  if (linked?.run) {
    const r = state.allRuns.find((x) => x.id === linked.run || x.name === linked.run);
    if (r) $('pr-run').value = r.id;
  }
  if (linked) {
    state.pred.label = linked.label;
    state.pred.predicted = linked.predicted;
    if (linked.mistakes) $('pr-mistakes').checked = true;
  }
  const run = $('pr-run').value;
  if (!run) return;
  const set = await fillSetSelect(run);
  state.linkedPrediction = null; // applied once; later choices are the user's
  const size = +$('pr-size').value;
  const data = await api('predictions', {
    run, set, mistakes: $('pr-mistakes').checked ? 1 : '', predicted: state.pred.predicted,
    label: state.pred.label, sort: $('pr-sort').value, page: state.pred.page, size,
  });
  const chips = [el('button', { type: 'button', class: state.pred.predicted === null ? 'active' : '',
    onclick: () => { state.pred.predicted = null; state.pred.page = 0; loadPredictions().catch(showError); } },
  'all predicted classes')];
  if (state.pred.label !== null) {
    // a confusion-matrix cell was clicked: the true class is a filter too, until this chip goes
    chips.unshift(el('button', { type: 'button', class: 'active true-class',
      title: 'show every true class again',
      onclick: () => { state.pred.label = null; state.pred.page = 0; loadPredictions().catch(showError); } },
    `true ${className(state.pred.label, data.classes)} ×`));
  }
  for (const [k, n] of Object.entries(data.groups)) {
    chips.push(el('button', { type: 'button', class: String(state.pred.predicted) === k ? 'active' : '',
      dataset: { predicted: k },
      onclick: () => { state.pred.predicted = +k; state.pred.page = 0; loadPredictions().catch(showError); } },
    `predicted ${className(k, data.classes)}: ${n}`));
  }
  $('pr-groups').replaceChildren(...chips);
  $('pred-table').tBodies[0].replaceChildren(...data.rows.map((r) =>
    el('tr', { class: r.predicted !== r.label ? 'mistake' : '', dataset: { example: r.example } },
      el('td', {}, thumb(run, r, set)), el('td', { class: 'num' }, r.example),
      el('td', { class: 'num label' }, className(r.label, data.classes)),
      el('td', { class: 'num pred' }, className(r.predicted, data.classes)), el('td', { class: 'num' }, r.confidence.toFixed(3)))));
  state.pred.classes = data.classes;
  pager($('pr-pager'), data.page, data.size, data.total, (p) => { state.pred.page = p; loadPredictions().catch(showError); });
  if (data.kept) {
    $('pr-pager').append(el('span', { class: 'hint kept' },
      ` — this report keeps ${data.kept.kept} of the ${data.kept.of} predictions, mistakes first`
      + ' (report --max-predictions, --max-shifted-predictions)'));
  }
  $('pred-table').dataset.loaded = String((+$('pred-table').dataset.loaded || 0) + 1);
  await renderConfusion(run, set);
  await loadComparison();
}

async function renderConfusion(run, set) {
  const c = await api('confusion', { run, set });
  if (!state.confusion) {
    state.confusion = echarts.init($('confusion-chart'));
    // a cell filters the table to its examples: that true class, that prediction
    state.confusion.on('click', (q) => {
      if (q.value[0] === q.value[1]) $('pr-mistakes').checked = false; // the diagonal: no mistakes
      state.pred.label = q.value[1];
      state.pred.predicted = q.value[0];
      state.pred.page = 0;
      loadPredictions().catch(showError);
    });
  }
  const cells = [];
  let max = 1;
  c.matrix.forEach((row, t) => row.forEach((n, p) => { cells.push([p, t, n]); if (t !== p) max = Math.max(max, n); }));
  const classes = [...Array(c.classes).keys()].map(String);
  // class names (Fashion-MNIST's) label the rows and the tooltip; the columns keep the numbers
  const named = (k) => className(k, c.names);
  state.confusion.setOption({
    animation: false,
    tooltip: { renderMode: 'richText', formatter: (q) => `true ${named(q.value[1])}, predicted ${named(q.value[0])}: ${q.value[2]}` },
    grid: { left: c.names ? 120 : 50, right: 20, top: 10, bottom: 60 },
    xAxis: { type: 'category', data: classes, name: 'predicted', nameLocation: 'middle', nameGap: 26 },
    yAxis: { type: 'category', data: classes.map(named), name: c.names ? '' : 'true', inverse: true,
      nameLocation: 'middle', nameGap: 30 },
    visualMap: { min: 0, max, show: false, inRange: { color: ['#f7fbff', '#08519c'] } },
    series: [{ type: 'heatmap', data: cells, label: { show: true, fontSize: 10 } }],
  }, true);
}

/**
 * Fills the choice of the other side's test images — the same as this side's, the other run's own
 * (as trained), or one of its shifted sets — keeping the current one when the run has it. Returns
 * the set the other run is compared on ('' for its own) and whether it has it.
 */
async function fillCompareSetSelect(b) {
  const select = $('cp-set');
  const current = select.value || '=';
  const sets = await api('prediction-sets', { run: b });
  select.replaceChildren(new Option('the same test images', '='),
    new Option('as trained: the test set', '-'), ...sets.map((s) => new Option(s.shift, s.shift)));
  select.value = [...select.options].some((o) => o.value === current) ? current : '=';
  const set = select.value === '=' ? $('pr-set').value : select.value === '-' ? '' : select.value;
  return { set, has: set === '' || sets.some((s) => s.shift === set) };
}

async function loadComparison() {
  const a = $('pr-run').value, b = $('cp-run').value;
  const body = $('cmp-table').tBodies[0];
  const clear = (message) => {
    body.replaceChildren();
    $('cp-counts').textContent = message;
    $('cp-pager').replaceChildren();
  };
  if (!a || !b) return clear('');
  const set = $('pr-set').value;
  const other = await fillCompareSetSelect(b);
  if (a === b && set === other.set) return clear('pick another run, or other test images');
  if (!other.has) return clear(`the other run has no predictions on ${other.set} (normlab robustness on it stores them)`);
  // one run on two test sets: the columns are the sets
  const name = (s) => s || 'as trained';
  const [thisSide, otherSide] = a === b ? [name(set), name(other.set)] : ['this run', 'the other'];
  const head = $('cmp-table').tHead.rows[0].cells;
  head[3].textContent = a === b ? thisSide : 'this run';
  head[4].textContent = a === b ? otherSide : 'other run';
  const size = +$('pr-size').value;
  const bSet = $('cp-set').value === '=' ? undefined : other.set || '-';
  const d = await api('compare-predictions',
    { a, b, set, b_set: bSet, which: $('cp-which').value, page: state.cmp.page, size });
  $('cp-counts').textContent = `both right ${d.counts.both_right} · only ${thisSide} right ${d.counts.only_a_right}`
    + ` · only ${otherSide} right ${d.counts.only_b_right} · both wrong ${d.counts.both_wrong}`;
  const sameImages = set === other.set;
  body.replaceChildren(...d.rows.map((r) => el('tr', {},
    el('td', {}, thumb(a, r, set), sameImages ? null : thumb(b, { example: r.example, image: r.b_image }, other.set)),
    el('td', { class: 'num' }, r.example), el('td', { class: 'num' }, className(r.label, state.pred.classes)),
    el('td', { class: r.a_predicted === r.label ? 'right' : 'wrong' },
      `${className(r.a_predicted, state.pred.classes)} (${r.a_confidence.toFixed(2)})`),
    el('td', { class: r.b_predicted === r.label ? 'right' : 'wrong' },
      `${className(r.b_predicted, state.pred.classes)} (${r.b_confidence.toFixed(2)})`))));
  pager($('cp-pager'), d.page, d.size, d.total, (p) => { state.cmp.page = p; loadComparison().catch(showError); });
}

// ------------------------------------------------------------------ run comparer

function renderComparer() {
  const runs = state.allRuns.filter((r) => state.selected.has(r.id));
  $('rc-table').tHead.rows[0].replaceChildren(el('th', {}, 'key'), ...runs.map((r) => el('th', {}, `${r.name} (${r.id})`)));
  const rows = [
    ['status', (r) => r.status], ['group', (r) => r.group], ['tags', (r) => r.tags], ['notes', (r) => r.notes], ['error', (r) => r.error], ['runtime', (r) => duration(r.runtime)],
    ...[...new Set(runs.flatMap((r) => Object.keys(r.config)))].sort().map((k) => ['config.' + k, (r) => r.config[k]]),
    ...[...new Set(runs.flatMap((r) => Object.keys(r.summary)))].sort().map((k) => ['summary.' + k, (r) => r.summary[k]]),
  ];
  const diffOnly = $('rc-diff').checked;
  const body = $('rc-table').tBodies[0];
  body.replaceChildren();
  for (const [name, get] of rows) {
    const values = runs.map((r) => fmt(get(r)));
    const differs = new Set(values).size > 1;
    if (diffOnly && !differs) continue;
    body.append(el('tr', { class: differs ? 'diff' : '', dataset: { key: name } }, el('th', {}, name),
      ...values.map((v) => el('td', {}, v))));
  }
  if (runs.length === 0) body.append(el('tr', {}, el('td', { class: 'hint' }, 'tick runs in the runs table')));
}

// ------------------------------------------------------------------ typed tables

/** A table cell by its column's type: a number, text, an image, or the top class probabilities. */
function tableCell(value, column) {
  if (value === null || value === undefined) return el('td', {}, '—');
  switch (column.type) {
    case 'number': return el('td', { class: 'num' }, fmt(value));
    case 'image': {
      // small images (a 28x28 digit) are drawn at twice their size, pixels kept sharp
      const zoom = Math.max(value.w, value.h) <= 64 ? 2 : 1;
      return el('td', {}, el('img', { class: 'cell', src: 'data:image/png;base64,' + value.png,
        width: value.w * zoom, height: value.h * zoom, alt: `${column.name} (${value.w}x${value.h})` }));
    }
    case 'probabilities': {
      const top = value.map((v, k) => [k, v]).sort((a, b) => b[1] - a[1]).slice(0, 3);
      return el('td', { class: 'num' }, top.map(([k, v]) => `${className(k, column.classes)}: ${fmt(v)}`).join('  '));
    }
    default: return el('td', {}, String(value));
  }
}

async function loadTable() {
  const linked = state.linkedTable;
  if (linked?.run) {
    const r = state.allRuns.find((x) => x.id === linked.run || x.name === linked.run);
    if (r) $('tb-run').value = r.id;
  }
  const run = $('tb-run').value;
  if (!run) return;
  const tables = await api('tables', { run });
  const nameSelect = $('tb-name');
  const wanted = linked?.table ?? nameSelect.value;
  nameSelect.replaceChildren(...tables.map((t) => new Option(`${t.name} (${t.rows} rows)`, t.name)));
  if (tables.some((t) => t.name === wanted)) nameSelect.value = wanted;
  if (linked?.column) {
    $('tb-value').value = linked.value ?? '';
  }
  state.linkedTable = null; // applied once; later choices are the user's
  const table = tables.find((t) => t.name === nameSelect.value);
  $('tb-hint').textContent = table ? ''
    : 'this run has no tables: a training loop writes them with RunWriter.table, normlab feature-maps adds one';
  if (!table) {
    $('tb-table').tHead.rows[0].replaceChildren();
    $('tb-table').tBodies[0].replaceChildren();
    $('tb-pager').replaceChildren();
    return;
  }
  const scalar = table.columns.filter((c) => c.type === 'number' || c.type === 'text').map((c) => c.name);
  const columnSelect = $('tb-column');
  const chosen = linked?.column ?? columnSelect.value;
  const where = scalar.includes(chosen) ? chosen : '';
  columnSelect.replaceChildren(new Option('—', ''), ...scalar.map((n) => new Option(n, n)));
  columnSelect.value = where;
  if (!scalar.includes(state.tbl.sort)) state.tbl.sort = null;
  const value = $('tb-value').value.trim();
  // "every run": the table's rows of each run the runs table lists (at most 50), a run column first;
  // the chosen run comes first, its table's columns are the ones a merged run must have
  const merged = $('tb-all').checked;
  const runs = merged ? [run, ...state.runs.map((r) => r.id).filter((id) => id !== run)].slice(0, 50) : [run];
  const data = await api('table', {
    run: runs.join(','), name: table.name, sort: state.tbl.sort, order: state.tbl.sort ? state.tbl.order : '',
    column: where && value ? where : '', value: where && value ? value : '',
    page: state.tbl.page, size: +$('tb-size').value,
  });
  const runHeader = merged ? [el('th', { class: 'run' }, 'run')] : [];
  $('tb-table').tHead.rows[0].replaceChildren(...runHeader, ...data.columns.map((c) => {
    const sortable = scalar.includes(c.name);
    const sorted = state.tbl.sort === c.name ? ' sorted-' + state.tbl.order : '';
    const num = c.type === 'number' ? ' num' : '';
    return el('th', { class: (sortable ? 'sortable' : '') + sorted + num, title: c.type,
      onclick: sortable ? () => {
        state.tbl.order = state.tbl.sort === c.name && state.tbl.order === 'asc' ? 'desc' : 'asc';
        state.tbl.sort = c.name;
        state.tbl.page = 0;
        loadTable().catch(showError);
      } : null }, c.name);
  }));
  $('tb-table').tBodies[0].replaceChildren(...data.rows.map((r) =>
    el('tr', { dataset: { row: r.row, run: r.run } }, ...(merged ? [el('td', { class: 'run' }, runLabel(r.run))] : []),
      ...data.columns.map((c, i) => tableCell(r.values[i], c)))));
  pager($('tb-pager'), data.page, data.size, data.total, (p) => { state.tbl.page = p; loadTable().catch(showError); });
  if (merged) {
    $('tb-pager').append(el('span', { class: 'hint merged' }, ` — the rows of ${data.runs.length} runs`
      + (data.other_columns.length ? `; left out, their table has other columns: ${data.other_columns.map(runLabel).join(', ')}` : '')));
  }
  if (data.kept) {
    $('tb-pager').append(el('span', { class: 'hint kept' },
      ` — this report keeps the first ${data.kept.kept} of the ${data.kept.of} rows (report --max-table-rows)`));
  }
  $('tb-table').dataset.loaded = String((+$('tb-table').dataset.loaded || 0) + 1);
}

// ------------------------------------------------------------------ wiring

const VIEWS = ['runs', 'parallel', 'versus', 'predictions', 'compare', 'tables'];

function show(view) {
  state.view = view;
  if (location.hash !== '#' + view) history.replaceState(null, '', '#' + view);
  for (const b of $('tabs').querySelectorAll('button')) b.classList.toggle('active', b.dataset.view === view);
  for (const s of document.querySelectorAll('section.view')) s.hidden = s.id !== 'view-' + view;
  refreshView().catch(showError);
}

async function refreshView() {
  if (state.view === 'runs') await renderCharts();
  else if (state.view === 'parallel') await renderParallel();
  else if (state.view === 'versus') await renderVersus();
  else if (state.view === 'predictions') await loadPredictions();
  else if (state.view === 'compare') renderComparer();
  else if (state.view === 'tables') await loadTable();
  for (const c of [...state.charts.values(), state.parallel, state.versus, state.confusion]) if (c) c.resize();
}

async function tick() {
  if (REPORT || !$('live').checked || document.hidden) return;
  try {
    await loadRuns();
    if (['runs', 'parallel', 'versus'].includes(state.view)) await refreshView();
    setStatus('updated ' + new Date().toLocaleTimeString());
  } catch (e) {
    showError(e);
  }
}

async function init() {
  if (REPORT) {
    $('live-label').hidden = true;
    $('subtitle').textContent = `report of group ${REPORT.group}, ${REPORT.generated}`;
  }
  for (const b of $('tabs').querySelectorAll('button')) b.addEventListener('click', () => show(b.dataset.view));
  const reloadRuns = () => loadRuns().then(selectionChanged).catch(showError);
  for (const id of ['f-group', 'f-norm', 'f-status', 'f-config-key']) $(id).addEventListener('change', reloadRuns);
  for (const id of ['f-tag', 'f-config-value']) $(id).addEventListener('input', reloadRuns);
  $('f-clear').addEventListener('click', () => {
    for (const id of ['f-group', 'f-norm', 'f-status', 'f-config-key', 'f-tag', 'f-config-value']) $(id).value = '';
    reloadRuns();
  });
  const redraw = () => renderCharts().catch(showError);
  for (const id of ['c-x', 'c-log', 'c-keys', 'c-group']) $(id).addEventListener('change', redraw);
  $('c-smooth').addEventListener('input', () => { $('c-smooth-value').textContent = $('c-smooth').value; redraw(); });
  $('p-color').addEventListener('change', () => { state.colourChosen = true; renderParallel().catch(showError); });
  $('p-keys').addEventListener('change', () => renderParallel().catch(showError));
  $('p-imp-metric').addEventListener('change', () =>
    renderImportance(state.parallelRuns, state.parallelSummaryKeys).catch(showError));
  for (const id of ['v-x', 'v-y', 'v-by']) {
    $(id).addEventListener('change', () => renderVersus().catch(showError));
  }
  const reloadPredictions = () => { state.pred.page = 0; state.cmp.page = 0; loadPredictions().catch(showError); };
  // another run or test set: the predicted-class filter may have nothing left, so it goes
  for (const id of ['pr-run', 'pr-set']) {
    $(id).addEventListener('change', () => { state.pred.predicted = null; state.pred.label = null; reloadPredictions(); });
  }
  for (const id of ['pr-mistakes', 'pr-sort', 'pr-size']) $(id).addEventListener('change', reloadPredictions);
  for (const id of ['cp-run', 'cp-set', 'cp-which']) $(id).addEventListener('change', () => { state.cmp.page = 0; loadComparison().catch(showError); });
  $('rc-diff').addEventListener('change', renderComparer);
  const reloadTable = () => { state.tbl.page = 0; loadTable().catch(showError); };
  $('tb-run').addEventListener('change', () => { state.tbl.sort = null; reloadTable(); });
  for (const id of ['tb-name', 'tb-column', 'tb-size', 'tb-all']) $(id).addEventListener('change', reloadTable);
  $('tb-value').addEventListener('change', reloadTable);
  // A link pasted into an open tab changes only the hash: load the page again to apply it. (The
  // tabs rewrite the hash with replaceState, which fires no hashchange.)
  window.addEventListener('hashchange', () => location.reload());
  window.addEventListener('resize', () => { for (const c of [...state.charts.values(), state.parallel, state.versus, state.confusion]) if (c) c.resize(); });

  state.keys = await api('keys');
  fillSelect($('f-config-key'), state.keys.config, 'key…');
  fillSelect($('c-group'), state.keys.config, 'nothing (a line per run)');
  fillSelect($('f-group'), await api('groups'), 'all');
  const metricKeys = state.keys.metrics.filter((k) => k !== 'epoch');
  metricKeys.push(...distributionKeys(metricKeys));
  // A link can name the metrics and the runs to show: #runs?metrics=test/accuracy&runs=3f9a2c1b
  const [fromHash, hashQuery] = location.hash.slice(1).split('?');
  const linked = new URLSearchParams(hashQuery || '');
  state.linkedMetrics = (linked.get('metrics') || '').split(',').filter(Boolean);
  state.linkedRuns = (linked.get('runs') || '').split(',').filter(Boolean);
  // ... and the axes: &x=lr for an lr range test (normlab lr-find prints such a link)
  if ([...$('c-x').options].some((o) => o.value === linked.get('x'))) $('c-x').value = linked.get('x');
  if (linked.get('log') === '1') $('c-log').checked = true; // &log=1: a log y axis
  // #versus?x=batch_size&metrics=test/accuracy&by=norm: the metric-vs-config plot's choices
  state.linkedVersus = { x: linked.get('x'), by: linked.get('by') ?? undefined, metrics: state.linkedMetrics };
  // #predictions?run=3f9a2c1b&set=invert: a run's predictions on shifted test images; &true=0
  // &predicted=3 a confusion-matrix cell, &mistakes=1 its mistakes only
  const classOf = (k) => (/^\d+$/.test(linked.get(k) ?? '') ? +linked.get(k) : null);
  state.linkedPrediction = { run: linked.get('run'), set: linked.get('set'), label: classOf('true'),
    predicted: classOf('predicted'), mistakes: linked.get('mistakes') === '1' };
  // #tables?run=3f9a2c1b&table=feature_maps: a run's typed table
  // &all=1: the rows of every listed run, merged; &column=example_id&value=0: a filter
  state.linkedTable = { run: linked.get('run'), table: linked.get('table'), column: linked.get('column'),
    value: linked.get('value') };
  if (linked.get('all') === '1') $('tb-all').checked = true;
  // The headline metrics first and shown; per-class accuracies and the rest one click away.
  fillKeySelect($('c-keys'), metricKeys,
    linkedOr(metricKeys, ['test/accuracy', 'train/accuracy', 'test/loss', 'train/loss', 'train/epoch_loss']));
  await loadRuns();
  if (VIEWS.includes(fromHash) && fromHash !== 'runs') show(fromHash);
  else await renderCharts();
  setStatus(REPORT ? '' : 'updated ' + new Date().toLocaleTimeString());
  document.body.dataset.ready = '1';
  if (!REPORT) setInterval(tick, REFRESH_MS);
}

// The chart arithmetic, reachable from the browser's console and the browser test (a module's
// functions are not global).
window.normlabCharts = { smooth, aggregate, numericAxis, versusPoints, versusXAxis, naturalOrder, shiftAxes, shiftCurve };

init().catch(showError);
