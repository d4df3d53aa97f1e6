/**
 * The batch page's only script: "Retry failed items" starts a bulk retry of the batch's failed
 * items (POST /admin/v1/retries with a filter, so items beyond the page shown are included), follows
 * it with GET /admin/v1/retries/:id until it stops running, then reloads the page. The batch id
 * comes from the button's data attribute, never from markup spliced into the script.
 */
export const RETRY_SCRIPT = `
(() => {
  const button = document.getElementById('retry-failed');
  const out = document.getElementById('retry-status');
  if (!button || !out) return;
  const RUNNING = new Set(['pending', 'queued', 'running', 'in_progress', 'aborting']);
  const say = (text) => { out.textContent = text; };
  const sum = (v) => (v && typeof v === 'object') ? Object.values(v).reduce((a, n) => a + (Number(n) || 0), 0) : Number(v) || 0;
  const describe = (r) => {
    const p = r.progress || {};
    return 'Retry ' + r.id + ': ' + r.status + ' (matched ' + sum(p.matched) + ', retried ' + sum(p.retried) + ', skipped ' + sum(p.skipped) + ')';
  };
  async function call(method, url, body) {
    const res = await fetch(url, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((data.error && data.error.message) || ('HTTP ' + res.status));
    return data;
  }
  button.addEventListener('click', async () => {
    button.disabled = true;
    say('Starting the retry…');
    try {
      let retry = await call('POST', '/admin/v1/retries', { filter: { batch_id: button.dataset.batch, status: 'failed' } });
      say(describe(retry));
      while (RUNNING.has(retry.status)) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        retry = await call('GET', '/admin/v1/retries/' + encodeURIComponent(retry.id));
        say(describe(retry));
      }
      say(describe(retry) + ': reloading');
      location.reload();
    } catch (err) {
      say('Retry: ' + (err instanceof Error ? err.message : String(err)));
      button.disabled = false;
    }
  });
})();
`;
