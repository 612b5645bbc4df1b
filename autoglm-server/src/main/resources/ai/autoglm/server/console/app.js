// The autoglm web console: chat, keys, audit, models, reports and live metrics over the server's own HTTP API. No framework; the three
// libraries are vendored (vendor/README.md): marked renders Markdown, DOMPurify sanitises every piece of HTML we put
// in the page (model output is untrusted input), uPlot draws the charts. Loaded with a strict Content-Security-Policy
// (no inline script, no eval), so nothing here may use inline handlers or string-to-code.
'use strict';

const KEY_STORAGE = 'autoglm.apiKey';          // sessionStorage: gone when the tab closes
const CHAT_STORAGE = 'autoglm.conversation';   // localStorage: the conversation survives a reload

const $ = (id) => document.getElementById(id);
const state = {
  messages: loadConversation(),   // [{role, content, stats?}]
  controller: null,               // AbortController of the request in flight
  metricsTimer: null,
  series: null,
};

// ------------------------------------------------------------------------------------------ helpers

function loadConversation() {
  try {
    const saved = JSON.parse(localStorage.getItem(CHAT_STORAGE) || '[]');
    return Array.isArray(saved) ? saved.filter((m) => m && typeof m.content === 'string' && typeof m.role === 'string') : [];
  } catch (e) {
    return [];
  }
}

function saveConversation() {
  localStorage.setItem(CHAT_STORAGE, JSON.stringify(state.messages));
}

function status(text) {
  $('status').textContent = text;
}

function headers(json) {
  const h = {};
  if (json) h['Content-Type'] = 'application/json';
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) h['Authorization'] = 'Bearer ' + key;
  return h;
}

async function api(path, body, signal, method) {
  const res = await fetch(path, {
    method: method || (body === undefined ? 'GET' : 'POST'),
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  if (!res.ok) throw new Error(await errorText(res));
  return res;
}

async function errorText(res) {
  try {
    const e = await res.json();
    return res.status + ': ' + (e.error && e.error.message ? e.error.message : JSON.stringify(e));
  } catch (ignored) {
    return res.status + ' ' + res.statusText;
  }
}

// Markdown to sanitised HTML. DOMPurify drops scripts, event-handler attributes and javascript: URLs; links open
// in a new tab without access to this page.
function markdown(text) {
  const html = DOMPurify.sanitize(marked.parse(text, { async: false }), { USE_PROFILES: { html: true } });
  return html;
}

DOMPurifyHooks();
function DOMPurifyHooks() {
  if (typeof DOMPurify === 'undefined') return;
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A') {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer');
    }
  });
}

// ------------------------------------------------------------------------------------------ chat

function renderMessage(m) {
  const li = document.createElement('li');
  li.className = m.role;
  const role = document.createElement('div');
  role.className = 'role';
  role.textContent = m.role;
  const body = document.createElement('div');
  body.className = 'body';
  const stats = document.createElement('div');
  stats.className = 'stats';
  li.append(role, body, stats);
  updateMessage(li, m);
  return li;
}

function updateMessage(li, m) {
  li.dataset.raw = m.content;   // the text exactly as received, for copy and for the tests
  const body = li.querySelector('.body');
  if (m.role === 'assistant') body.innerHTML = markdown(m.content);
  else body.textContent = m.content;
  li.querySelector('.stats').textContent = m.stats || '';
}

function renderConversation() {
  const ol = $('messages');
  ol.replaceChildren(...state.messages.map(renderMessage));
}

function requestMessages() {
  const out = [];
  const system = $('system').value.trim();
  if (system) out.push({ role: 'system', content: system });
  for (const m of state.messages) if (m.role === 'user' || m.role === 'assistant') out.push({ role: m.role, content: m.content });
  return out;
}

function number(id) {
  const v = Number($(id).value);
  return Number.isFinite(v) ? v : undefined;
}

async function complete() {
  const assistant = { role: 'assistant', content: '' };
  const messages = requestMessages();
  state.messages.push(assistant);
  const li = renderMessage(assistant);
  li.dataset.updates = '0';
  li.dataset.done = 'false';
  $('messages').append(li);
  const controller = new AbortController();
  state.controller = controller;
  $('stop').disabled = false;
  $('send').disabled = true;
  const started = performance.now();
  let firstToken = 0;
  let usage = null;
  let finish = '';
  try {
    const res = await api('/v1/chat/completions', {
      model: $('model').value || undefined,
      messages,
      stream: true,
      stream_options: { include_usage: true },
      temperature: number('temperature'),
      top_p: number('top-p'),
      max_tokens: number('max-tokens'),
    }, controller.signal);
    for await (const event of serverSentEvents(res.body)) {
      if (event === '[DONE]') break;
      const chunk = JSON.parse(event);
      if (chunk.error) throw new Error(chunk.error.message || 'the server ended the stream with an error');
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices && chunk.choices[0];
      if (!choice) continue;
      if (choice.finish_reason) finish = choice.finish_reason;
      const piece = choice.delta && choice.delta.content;
      if (piece) {
        if (!firstToken) firstToken = performance.now();
        assistant.content += piece;
        li.dataset.updates = String(Number(li.dataset.updates) + 1);
        updateMessage(li, assistant);
      }
    }
    assistant.stats = stats(usage, started, firstToken, finish);
    status('');
  } catch (e) {
    if (e.name === 'AbortError') {
      assistant.stats = 'stopped';
    } else {
      assistant.stats = 'error: ' + e.message;
      li.classList.add('error');
      status(e.message);
    }
  } finally {
    updateMessage(li, assistant);
    li.dataset.done = 'true';
    state.controller = null;
    $('stop').disabled = true;
    $('send').disabled = false;
    saveConversation();
  }
}

function stats(usage, started, firstToken, finish) {
  const end = performance.now();
  const parts = [];
  if (usage) parts.push(usage.prompt_tokens + ' prompt + ' + usage.completion_tokens + ' completion tokens');
  if (usage && firstToken && usage.completion_tokens > 1) {
    parts.push(((usage.completion_tokens - 1) / ((end - firstToken) / 1000)).toFixed(1) + ' tokens/s');
  }
  if (firstToken) parts.push('first token ' + Math.round(firstToken - started) + ' ms');
  if (finish) parts.push(finish);
  return parts.join(' · ');
}

// The SSE events of a streamed answer ("data: {...}" blocks separated by a blank line).
async function* serverSentEvents(stream) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
      if (data) yield data;
    }
  }
}

function send() {
  const text = $('input').value;
  if (!text.trim() || state.controller) return;
  $('input').value = '';
  const user = { role: 'user', content: text };
  state.messages.push(user);
  $('messages').append(renderMessage(user));
  saveConversation();
  complete();
}

function regenerate() {
  if (state.controller) return;
  while (state.messages.length && state.messages[state.messages.length - 1].role === 'assistant') state.messages.pop();
  if (!state.messages.length) return;
  renderConversation();
  complete();
}

async function showPrompt() {
  const pre = $('rendered-prompt');
  try {
    const model = $('model').value || undefined;
    const tokens = await (await api('/tokenize', { model, messages: requestMessages(), add_generation_prompt: true })).json();
    const text = await (await api('/detokenize', { model, tokens: tokens.tokens })).json();
    pre.textContent = text.prompt + '\n\n(' + tokens.count + ' tokens)';
  } catch (e) {
    pre.textContent = e.message;
  }
  pre.hidden = false;
}

async function loadModels() {
  try {
    const list = await (await api('/v1/models')).json();
    const select = $('model');
    select.replaceChildren(...list.data.map((m) => {
      const o = document.createElement('option');
      o.value = m.id;
      o.textContent = m.id;
      return o;
    }));
  } catch (e) {
    status('models: ' + e.message);
  }
}

// The composer: Enter sends, Shift+Enter is a new line, and the Enter that confirms an IME composition (Chinese,
// Japanese input) never sends. Browsers differ on whether that Enter's keydown has isComposing, so the composition
// events are tracked too (keyCode 229 is the IME's "process" key).
function composer() {
  const input = $('input');
  let composing = false;
  input.addEventListener('compositionstart', () => { composing = true; });
  input.addEventListener('compositionend', () => { composing = false; });
  input.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.shiftKey) return;
    if (e.isComposing || composing || e.keyCode === 229) return;
    e.preventDefault();
    send();
  });
  $('composer').addEventListener('submit', (e) => { e.preventDefault(); send(); });
  $('stop').addEventListener('click', () => { if (state.controller) state.controller.abort(); });
  $('regenerate').addEventListener('click', regenerate);
  $('new-chat').addEventListener('click', () => { state.messages = []; saveConversation(); renderConversation(); });
  $('show-prompt').addEventListener('click', showPrompt);
}

// ------------------------------------------------------------------------------------------ admin pages
// Every value from the server goes into the page as textContent, never as HTML. The server decides who may see
// these pages' data (admin role); a refusal is shown as it came.

function cell(value) {
  const td = document.createElement('td');
  td.textContent = value === undefined || value === null ? '' : String(value);
  return td;
}

function row(values) {
  const tr = document.createElement('tr');
  tr.append(...values.map(cell));
  return tr;
}

function button(label, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

function showError(id, e) {
  const p = $(id);
  p.textContent = e ? e.message : '';
  p.hidden = !e;
}

function mib(bytes) {
  return bytes === undefined || bytes === null ? '' : (bytes / 1048576).toFixed(1) + ' MiB';
}

// keys: create (the secret shown once), list, revoke

async function loadKeys() {
  const tbody = document.querySelector('#keys tbody');
  try {
    const list = await (await api('/admin/keys')).json();
    tbody.replaceChildren(...(list.data || []).map((k) => {
      const tr = row([k.name, k.role, (k.models || []).join(', '), k.state, k.created, k.expires]);
      tr.className = k.state;
      tr.dataset.key = k.name;
      const actions = document.createElement('td');
      if (k.state === 'active') {
        const b = button('Revoke', () => revokeKey(k.name));
        b.className = 'revoke';
        actions.append(b);
      }
      tr.append(actions);
      return tr;
    }));
    showError('keys-error', null);
  } catch (e) {
    tbody.replaceChildren();
    showError('keys-error', e);
  }
}

async function createKey(event) {
  event.preventDefault();
  const models = $('key-models').value.split(',').map((m) => m.trim()).filter(Boolean);
  const body = { name: $('key-name').value.trim(), role: $('key-role').value.trim(), models };
  if ($('key-expires').value.trim()) body.expires = $('key-expires').value.trim();
  try {
    const key = await (await api('/admin/keys', body)).json();
    $('key-secret-value').textContent = key.secret;
    $('key-secret').hidden = false;
    $('key-name').value = '';
    showError('keys-error', null);
  } catch (e) {
    $('key-secret').hidden = true;
    showError('keys-error', e);
  }
  loadKeys();
}

async function revokeKey(name) {
  if (!window.confirm('Revoke the key "' + name + '"? Clients using it are refused from their next request.')) return;
  try {
    await api('/admin/keys/' + encodeURIComponent(name), undefined, undefined, 'DELETE');
    $('key-secret').hidden = true;
    showError('keys-error', null);
  } catch (e) {
    showError('keys-error', e);
  }
  loadKeys();
}

// audit: filtered listing, chain check with the broken record highlighted

const auditState = { broken: null };

async function loadAudit(event) {
  if (event) event.preventDefault();
  const q = new URLSearchParams();
  for (const [field, id] of [['key', 'audit-key'], ['model', 'audit-model'], ['status', 'audit-status'], ['since', 'audit-since'], ['until', 'audit-until']]) {
    const v = $(id).value.trim();
    if (v) q.set(field, v);
  }
  const tbody = document.querySelector('#audit tbody');
  try {
    const list = await (await api('/admin/audit?' + q.toString())).json();
    tbody.replaceChildren(...list.data.map((r) => {
      const tr = r.unreadable !== undefined
        ? row(['?', '', '', r.unreadable, '', '', '', '', ''])
        : row([r.seq, r.time, r.key, r.route, r.model, r.status, (r.prompt_tokens || 0) + ' + ' + (r.completion_tokens || 0), r.latency_ms, r.action]);
      tr.dataset.file = r.file;
      tr.dataset.line = r.line;
      if (r.seq !== undefined) tr.dataset.seq = r.seq;
      return tr;
    }));
    markBroken();
    showError('audit-error', null);
  } catch (e) {
    tbody.replaceChildren();
    showError('audit-error', e);
  }
}

async function verifyAudit() {
  const p = $('audit-verdict');
  try {
    const v = await (await api('/admin/audit/verify')).json();
    auditState.broken = v.problem;
    if (v.ok) {
      p.className = 'ok';
      p.textContent = 'Chain intact: ' + v.records + ' records, seq ' + v.first_seq + '..' + v.last_seq + ', head ' + v.head_hash.slice(0, 16) + '…';
    } else {
      const b = v.problem;
      p.className = 'error';
      p.textContent = 'Chain broken: ' + b.kind + ' at ' + b.file + ':' + b.line + (b.seq !== null ? ' (seq ' + b.seq + ')' : '') + ': ' + b.detail
        + (b.record ? '\nRecord: ' + b.record : '');
    }
    p.hidden = false;
    showError('audit-error', null);
    await loadAudit();
  } catch (e) {
    p.hidden = true;
    showError('audit-error', e);
  }
}

function markBroken() {
  const b = auditState.broken;
  for (const tr of document.querySelectorAll('#audit tbody tr')) {
    const hit = b && tr.dataset.file === b.file && tr.dataset.line === String(b.line);
    tr.classList.toggle('broken', Boolean(hit));
  }
}

// models: table with load / unload and keep-alive

async function loadModelsPage() {
  const tbody = document.querySelector('#models tbody');
  try {
    const list = await (await api('/admin/models')).json();
    $('models-process').textContent = 'Server process resident memory: ' + mib(list.process_resident_bytes);
    tbody.replaceChildren(...list.data.map((m) => {
      const quant = m.quantize ? m.quantize + (m.quantized_to ? ' → ' + m.quantized_to : ' (as stored)') : 'as stored';
      const est = m.memory_estimate ? mib(m.memory_estimate.total_bytes) : '';
      const tr = row([m.id, m.kind, m.loaded ? 'yes' : 'no', m.slots + ' × ' + (m.context === null ? 'auto' : m.context), quant, est,
        mib(m.memory_in_use_bytes)]);
      if (m.memory_estimate) tr.children[5].title = m.memory_estimate.summary;
      tr.dataset.model = m.id;
      const keep = document.createElement('td');
      const input = document.createElement('input');
      input.value = m.keep_alive;
      input.size = 8;
      input.className = 'keep-alive';
      keep.append(input);
      const actions = document.createElement('td');
      const load = button(m.loaded ? 'Keep loaded' : 'Load', () => modelAction(m.id, 'load', { keep_alive: input.value.trim() }));
      load.className = 'load';
      const unload = button('Unload', () => modelAction(m.id, 'unload', {}));
      unload.className = 'unload';
      unload.disabled = !m.loaded;
      actions.append(load, unload);
      tr.append(keep, actions);
      return tr;
    }));
    showError('models-error', null);
  } catch (e) {
    tbody.replaceChildren();
    showError('models-error', e);
  }
  // a render counter: scripts (and the tests) can wait for the table drawn after an action, not a stale one
  tbody.dataset.renders = String(Number(tbody.dataset.renders || 0) + 1);
}

async function modelAction(id, action, body) {
  status(action + 'ing ' + id + '…');
  try {
    await api('/admin/models/' + encodeURIComponent(id) + '/' + action, body);
    status('');
    showError('models-error', null);
  } catch (e) {
    status('');
    showError('models-error', e);
  }
  loadModelsPage();
}

// reports: list with a summary; a row opens the whole report.json

async function loadReports() {
  const tbody = document.querySelector('#reports tbody');
  try {
    const list = await (await api('/admin/reports')).json();
    tbody.replaceChildren(...list.data.map((r) => {
      const s = r.summary || {};
      const pick = s.pick || {};
      const tr = row(['', s.model, s.search, s.budget_mb, s.trials, s.chosen === null ? 'none met the constraints' : s.chosen,
        pick.memory_mb === undefined ? '' : Number(pick.memory_mb).toFixed(1), pick.mean_kld, pick.top1, r.modified]);
      const link = document.createElement('a');
      link.href = '#';
      link.textContent = r.id;
      link.addEventListener('click', (e) => { e.preventDefault(); showReport(r.href); });
      tr.children[0].append(link);
      if (r.error) tr.children[1].textContent = r.error;
      return tr;
    }));
    showError('reports-error', null);
  } catch (e) {
    tbody.replaceChildren();
    showError('reports-error', e);
  }
}

async function showReport(href) {
  const pre = $('report-json');
  try {
    pre.textContent = JSON.stringify(await (await api(href)).json(), null, 2);
  } catch (e) {
    pre.textContent = e.message;
  }
  pre.hidden = false;
}

function adminPages() {
  $('key-form').addEventListener('submit', createKey);
  $('keys-refresh').addEventListener('click', loadKeys);
  $('audit-form').addEventListener('submit', loadAudit);
  $('audit-verify').addEventListener('click', verifyAudit);
}

// ------------------------------------------------------------------------------------------ metrics

// Prometheus text format: "name{labels} value" lines; '#' lines are comments.
function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/);
    if (m) out.push({ name: m[1], labels: m[2] || '', value: Number(m[3]) });
  }
  return out;
}

function sum(samples, name) {
  return samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);
}

// A quantile from cumulative histogram buckets (linear inside the bucket, as Prometheus' histogram_quantile).
function quantile(samples, name, q) {
  const buckets = new Map();
  for (const s of samples.filter((x) => x.name === name + '_bucket')) {
    const le = s.labels.match(/le="([^"]+)"/);
    if (!le) continue;
    const bound = le[1] === '+Inf' ? Infinity : Number(le[1]);
    buckets.set(bound, (buckets.get(bound) || 0) + s.value);
  }
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.length ? sorted[sorted.length - 1][1] : 0;
  if (!total) return NaN;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= q * total) {
      if (bound === Infinity) return prevBound;
      return prevBound + (bound - prevBound) * ((q * total - prevCount) / Math.max(count - prevCount, 1e-9));
    }
    prevBound = bound;
    prevCount = count;
  }
  return prevBound;
}

const CHARTS = [
  { key: 'tps', title: 'decode tokens/s' },
  { key: 'queue', title: 'queue depth' },
  { key: 'slots', title: 'active slots' },
  { key: 'kv', title: 'KV cache use' },
];

async function scrapeMetrics() {
  let samples;
  try {
    samples = parseMetrics(await (await api('/metrics')).text());
  } catch (e) {
    status('metrics: ' + e.message);
    return;
  }
  const now = Date.now() / 1000;
  const values = {
    tps: sum(samples, 'autoglm_decode_tokens_per_second'),
    queue: sum(samples, 'autoglm_queue_depth'),
    slots: sum(samples, 'autoglm_active_slots'),
    kv: sum(samples, 'autoglm_kv_cache_usage_ratio'),
  };
  const shown = {
    'active slots': values.slots,
    'queue depth': values.queue,
    'decode tokens/s': values.tps.toFixed(1),
    'KV cache use': (100 * values.kv).toFixed(1) + '%',
    'generated tokens': sum(samples, 'autoglm_generated_tokens_total'),
    'TTFT p50 (s)': quantile(samples, 'autoglm_time_to_first_token_seconds', 0.5).toFixed(3),
    'TTFT p95 (s)': quantile(samples, 'autoglm_time_to_first_token_seconds', 0.95).toFixed(3),
  };
  const box = $('metric-values');
  box.replaceChildren(...Object.entries(shown).map(([k, v]) => {
    const d = document.createElement('div');
    d.dataset.metric = k;
    d.textContent = k + ': ' + v;
    return d;
  }));
  if (typeof uPlot === 'undefined') return;
  if (!state.series) {
    state.series = { t: [], plots: {} };
    for (const c of CHARTS) {
      state.series[c.key] = [];
      const holder = document.createElement('div');
      $('charts').append(holder);
      state.series.plots[c.key] = new uPlot({ title: c.title, width: 420, height: 180, series: [{}, { label: c.title, stroke: '#3366cc' }] },
        [[], []], holder);
    }
  }
  const s = state.series;
  s.t.push(now);
  for (const c of CHARTS) s[c.key].push(values[c.key]);
  if (s.t.length > 300) { s.t.shift(); for (const c of CHARTS) s[c.key].shift(); }
  for (const c of CHARTS) s.plots[c.key].setData([s.t, s[c.key]]);
}

// ------------------------------------------------------------------------------------------ pages

function showPage(name) {
  for (const b of document.querySelectorAll('.tab')) b.classList.toggle('active', b.dataset.page === name);
  for (const p of document.querySelectorAll('.page')) p.hidden = p.id !== 'page-' + name;
  clearInterval(state.metricsTimer);
  if (name === 'keys') loadKeys();
  if (name === 'audit') loadAudit();
  if (name === 'models') loadModelsPage();
  if (name === 'reports') loadReports();
  if (name === 'metrics') {
    scrapeMetrics();
    state.metricsTimer = setInterval(scrapeMetrics, 2000);
  }
}

function settings() {
  $('save-key').addEventListener('click', () => {
    sessionStorage.setItem(KEY_STORAGE, $('api-key').value.trim());
    $('api-key').value = '';
    status('key saved for this tab');
    loadModels();
  });
  $('forget-key').addEventListener('click', () => { sessionStorage.removeItem(KEY_STORAGE); status('key forgotten'); });
}

for (const b of document.querySelectorAll('.tab')) b.addEventListener('click', () => showPage(b.dataset.page));
composer();
settings();
adminPages();
renderConversation();
loadModels();
