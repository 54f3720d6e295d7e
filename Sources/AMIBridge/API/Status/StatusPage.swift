import Crypto
import Foundation

/// The status page served at `GET /`: one HTML document with its style and script inline, no
/// external asset and no build step. The script polls `status.json` every second and draws it
/// with `textContent` only (channel names and caller ids are data, never markup); the dead
/// letters' Retry buttons call `POST v1/dead-letters/{id}/retry` with the API key typed into the
/// page, kept in the tab's `sessionStorage` only.
///
/// The Content-Security-Policy allows exactly this style and script (by hash), requests to the
/// daemon itself, and nothing else.
enum StatusPage {
    static let style = """
    :root { color-scheme: light dark; --muted: #6b7280; --ok: #15803d; --bad: #b91c1c; --warn: #b45309; --line: #d1d5db; }
    body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem 1.5rem; }
    h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
    h2 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
    .muted { color: var(--muted); }
    table { border-collapse: collapse; width: 100%; }
    th, td { text-align: left; padding: .2rem .6rem .2rem 0; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { font-weight: 600; white-space: nowrap; }
    td.num, th.num { text-align: right; }
    .ok { color: var(--ok); font-weight: 600; }
    .bad { color: var(--bad); font-weight: 600; }
    .warn { color: var(--warn); font-weight: 600; }
    .empty { color: var(--muted); font-style: italic; }
    code, .mono { font-family: ui-monospace, monospace; font-size: 13px; }
    #key-form { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; margin: .5rem 0; }
    #key-form input { min-width: 26rem; font-family: ui-monospace, monospace; }
    #message { min-height: 1.4em; }
    .scroll { max-height: 17rem; overflow-y: auto; }
    button { cursor: pointer; }
    """

    static let script = """
    'use strict';
    const keyStore = 'amibridge.apiKey';
    let lastSnapshot = null;
    // What each list was last drawn from: a list whose data did not change is left as it is, so a
    // Retry button is not replaced under the pointer every second.
    const drawn = {};

    function unchanged(id, data) {
      const key = JSON.stringify(data);
      if (drawn[id] === key) return true;
      drawn[id] = key;
      return false;
    }

    function el(tag, text, className) {
      const node = document.createElement(tag);
      if (text !== undefined && text !== null) node.textContent = String(text);
      if (className) node.className = className;
      return node;
    }

    function duration(seconds) {
      seconds = Math.max(0, Math.round(seconds));
      if (seconds < 60) return seconds + ' s';
      if (seconds < 3600) return Math.floor(seconds / 60) + ' min ' + (seconds % 60) + ' s';
      return Math.floor(seconds / 3600) + ' h ' + Math.floor((seconds % 3600) / 60) + ' min';
    }

    function clock(epoch) {
      return new Date(epoch * 1000).toLocaleTimeString();
    }

    function table(id, headers, rows, emptyText) {
      const target = document.getElementById(id);
      if (rows.length === 0) {
        target.replaceChildren(el('p', emptyText, 'empty'));
        return;
      }
      const tableNode = el('table');
      const head = el('tr');
      for (const header of headers) head.append(el('th', header.label, header.num ? 'num' : ''));
      const thead = el('thead');
      thead.append(head);
      tableNode.append(thead);
      const tbody = el('tbody');
      for (const row of rows) {
        const tr = el('tr');
        row.forEach((cell, index) => {
          const td = el('td', null, headers[index].num ? 'num' : '');
          if (cell instanceof Node) td.append(cell); else td.textContent = cell === null || cell === undefined ? '' : String(cell);
          tr.append(td);
        });
        tbody.append(tr);
      }
      tableNode.append(tbody);
      target.replaceChildren(tableNode);
    }

    function render(status) {
      lastSnapshot = status;
      const now = status.generated_at;
      document.getElementById('updated').textContent = 'updated ' + clock(now) +
        (status.phone_numbers_masked ? ' \\u00b7 phone numbers masked' : '');
      document.getElementById('updated').className = 'muted';

      table('servers', [{label: 'AMI server'}, {label: 'state'}, {label: 'since'}, {label: 'events/s', num: true}, {label: 'last error'}],
        status.ami_servers.map(s => [
          s.name,
          el('span', s.state.replace('_', ' '), s.connected ? 'ok' : 'bad'),
          clock(s.since) + ' (' + duration(now - s.since) + ')',
          s.events_per_second === null ? '\\u2026' : s.events_per_second.toFixed(1),
          s.error,
        ]), 'No AMI server configured.');

      document.getElementById('calls-count').textContent = String(status.calls_in_progress.count);
      table('calls', [{label: 'age', num: true}, {label: 'server'}, {label: 'linkedid'}, {label: 'agent'}, {label: 'number'}, {label: 'answered'}, {label: 'click-to-call id'}],
        status.calls_in_progress.calls.map(c => [duration(c.age_seconds), c.server, el('span', c.linkedid, 'mono'), c.agent, c.phone_number, c.answered ? 'yes' : 'no', c.call_id]),
        'No call in progress.');

      const waiting = status.calls_waiting;
      document.getElementById('waiting-count').textContent = waiting.vicidial_row + ' for their ViciDial row, ' + waiting.disposition + ' for their disposition';
      table('waiting', [{label: 'waiting for'}, {label: 'server'}, {label: 'linkedid'}, {label: 'agent'}, {label: 'number'}, {label: 'waiting', num: true}, {label: 'gives up in', num: true}],
        waiting.calls.map(c => [c.waiting_for === 'disposition' ? 'disposition' : 'ViciDial row', c.server, el('span', c.linkedid, 'mono'), c.agent, c.phone_number,
          c.since === null ? 'since start' : duration(now - c.since), duration(c.deadline - now)]),
        'No call waiting.');

      if (!unchanged('endpoints', status.endpoints)) table('endpoints', [{label: 'endpoint'}, {label: 'owed', num: true}, {label: 'pending', num: true}, {label: 'in flight', num: true}, {label: 'waiting to retry', num: true}, {label: 'dead', num: true}],
        status.endpoints.map(e => [e.name, e.owed, e.pending, e.in_flight, e.waiting_to_retry, el('span', String(e.dead), e.dead > 0 ? 'bad' : '')]),
        'No webhook endpoint.');

      const log = status.event_log;
      document.getElementById('event-log-section').hidden = log === null;
      if (log !== null) table('event-log', [{label: 'NATS'}, {label: 'stream'}, {label: 'published', num: true}, {label: 'duplicates', num: true}, {label: 'failures', num: true}, {label: 'waiting to publish', num: true}, {label: 'last published'}, {label: 'last error'}],
        [[el('span', log.connected ? 'connected to ' + log.server : 'not connected', log.connected ? 'ok' : 'bad'), log.stream, log.published, log.duplicates, log.failures,
          el('span', String(log.pending), log.pending > 0 && !log.connected ? 'warn' : ''), log.last_published_at === null ? '\\u2026' : clock(log.last_published_at), log.last_error]], '');

      if (!unchanged('deliveries', status.recent_deliveries)) table('deliveries', [{label: 'at'}, {label: 'endpoint'}, {label: 'event'}, {label: 'result'}, {label: 'status', num: true}, {label: 'request ms', num: true}, {label: 'latency ms', num: true}, {label: 'error'}],
        status.recent_deliveries.map(d => [clock(d.at), d.endpoint, d.event,
          el('span', d.result, d.result === 'delivered' ? 'ok' : d.result === 'dead' ? 'bad' : 'warn'),
          d.status, d.request_ms, d.latency_ms, d.error]),
        'No delivery yet.');

      document.getElementById('dead-count').textContent = String(status.dead_letters.count);
      if (!unchanged('dead', status.dead_letters.letters)) table('dead', [{label: 'delivery'}, {label: 'endpoint'}, {label: 'event'}, {label: 'call'}, {label: 'attempts', num: true}, {label: 'created'}, {label: 'last status', num: true}, {label: 'last error'}, {label: ''}],
        status.dead_letters.letters.map(d => {
          const button = el('button', 'Retry');
          button.type = 'button';
          button.dataset.deliveryId = String(d.delivery_id);
          button.addEventListener('click', () => retry(d.delivery_id, button));
          return [d.delivery_id, d.endpoint, d.event, el('span', d.call_key, 'mono'), d.attempts, clock(d.created_at), d.last_status, d.last_error, button];
        }),
        'No dead letter.');
    }

    function say(text, className) {
      const message = document.getElementById('message');
      message.textContent = text;
      message.className = className || '';
    }

    async function retry(id, button) {
      const key = sessionStorage.getItem(keyStore);
      if (!key) {
        say('Enter an API key above to retry dead letters.', 'bad');
        document.getElementById('api-key').focus();
        return;
      }
      button.disabled = true;
      try {
        const response = await fetch('v1/dead-letters/' + encodeURIComponent(String(id)) + '/retry', {
          method: 'POST', headers: {'Authorization': 'Bearer ' + key}, cache: 'no-store',
        });
        const body = await response.json().catch(() => null);
        if (response.ok) {
          say('Dead letter ' + id + ' queued again.', 'ok');
        } else {
          const reason = body && body.error ? body.error.message : response.statusText;
          say('Retry of ' + id + ' refused: ' + response.status + ' ' + reason, 'bad');
          button.disabled = false;
        }
      } catch (error) {
        say('Retry of ' + id + ' failed: ' + error, 'bad');
        button.disabled = false;
      }
      poll();
    }

    let polling = false;
    async function poll() {
      if (polling) return;
      polling = true;
      try {
        const response = await fetch('status.json', {cache: 'no-store'});
        if (!response.ok) throw new Error('status.json answered ' + response.status);
        render(await response.json());
      } catch (error) {
        const updated = document.getElementById('updated');
        updated.textContent = 'not updating: ' + error.message + (lastSnapshot ? ' (showing ' + clock(lastSnapshot.generated_at) + ')' : '');
        updated.className = 'bad';
      } finally {
        polling = false;
      }
    }

    function showKeyState() {
      const has = sessionStorage.getItem(keyStore) !== null;
      document.getElementById('key-state').textContent = has ? 'key set for this tab' : 'no key: Retry needs one';
      document.getElementById('key-state').className = has ? 'ok' : 'muted';
    }

    document.getElementById('key-form').addEventListener('submit', event => {
      event.preventDefault();
      const input = document.getElementById('api-key');
      const key = input.value.trim();
      if (key) sessionStorage.setItem(keyStore, key); else sessionStorage.removeItem(keyStore);
      input.value = '';
      showKeyState();
    });
    document.getElementById('forget-key').addEventListener('click', () => {
      sessionStorage.removeItem(keyStore);
      showKeyState();
    });
    showKeyState();
    poll();
    setInterval(poll, 1000);
    """

    static let html = """
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <title>amibridge status</title>
    <link rel="icon" href="data:,">
    <style>\(style)</style>
    </head>
    <body>
    <h1>amibridge status</h1>
    <div id="updated" class="muted">loading\u{2026}</div>
    <h2>AMI servers</h2>
    <div id="servers"></div>
    <h2>Calls in progress: <span id="calls-count">0</span></h2>
    <div id="calls" class="scroll"></div>
    <h2>Calls waiting: <span id="waiting-count">0</span></h2>
    <div id="waiting" class="scroll"></div>
    <h2>Outbox per endpoint</h2>
    <div id="endpoints"></div>
    <section id="event-log-section" hidden>
    <h2>Event log (NATS JetStream)</h2>
    <div id="event-log"></div>
    </section>
    <h2>Last deliveries</h2>
    <div id="deliveries" class="scroll"></div>
    <h2>Dead letters: <span id="dead-count">0</span></h2>
    <form id="key-form" autocomplete="off">
    <label for="api-key">API key</label>
    <input id="api-key" type="password" placeholder="amib_..." spellcheck="false">
    <button type="submit">Use key</button>
    <button type="button" id="forget-key">Forget key</button>
    <span id="key-state" class="muted"></span>
    </form>
    <div id="message" role="status"></div>
    <div id="dead" class="scroll"></div>
    <script>\(script)</script>
    </body>
    </html>
    """

    /// Only this page's own style and script run; it may fetch from the daemon and nothing else.
    static let contentSecurityPolicy = [
        "default-src 'none'",
        "script-src '\(hash(script))'",
        "style-src '\(hash(style))'",
        "connect-src 'self'",
        "img-src data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ].joined(separator: "; ")

    private static func hash(_ text: String) -> String {
        "sha256-" + Data(SHA256.hash(data: Data(text.utf8))).base64EncodedString()
    }
}
