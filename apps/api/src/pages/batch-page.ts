/**
 * The batch page: progress at the top (status, counts, bar, ETA), a retry button for the failed
 * items, then one page of items as thumbnails and the failed ones with their errors.
 */
import type { BatchRecord, BatchView, Status } from '@darkroom/shared';
import type { ItemPage, ItemRow } from './batch-items.ts';
import { html, type SafeHtml } from './html.ts';
import type { Page } from './layout.ts';
import { RETRY_SCRIPT } from './retry-script.ts';

export interface BatchPageInput {
  batch: BatchRecord;
  view: BatchView;
  items: ItemPage;
  status: Status | undefined;
  resultsUrl: string | undefined;
  now: number;
}

const COUNTS = ['total', 'queued', 'running', 'succeeded', 'failed', 'canceled'] as const;

export function batchPath(id: string, query: { cursor?: number; status?: Status | undefined } = {}): string {
  const params = new URLSearchParams();
  if (query.status) params.set('status', query.status);
  if (query.cursor) params.set('cursor', String(query.cursor));
  const search = params.toString();
  return `/admin/batches/${encodeURIComponent(id)}${search ? `?${search}` : ''}`;
}

export function tenantBatchesPath(tenant: string): string {
  return `/admin/tenants/${encodeURIComponent(tenant)}/batches`;
}

/** The counts as one bar (SVG: its geometry is attributes, which the page's CSP allows, unlike inline styles). */
export function progressBar(view: BatchView, small = false): SafeHtml {
  const c = view.request_counts;
  const share = (n: number) => (c.total > 0 ? (1000 * n) / c.total : 0);
  let x = 0;
  const segments = (['succeeded', 'failed', 'canceled', 'running'] as const).filter((k) => c[k] > 0).map((k) => {
    const rect = html`<rect class="seg-${k}" x="${x.toFixed(1)}" y="0" width="${share(c[k]).toFixed(1)}" height="10"></rect>`;
    x += share(c[k]);
    return rect;
  });
  const label = `${c.succeeded} succeeded, ${c.failed} failed, ${c.canceled} canceled, ${c.running} running of ${c.total}`;
  return html`<svg class="bar${small ? ' small' : ''}" viewBox="0 0 1000 10" preserveAspectRatio="none" role="img" aria-label="${label}">${segments}</svg>`;
}

function eta(view: BatchView, now: number): SafeHtml {
  const c = view.request_counts;
  // A batch whose items have all ended (finalizing) has nothing left to estimate.
  if (!view.estimated_completion_at || c.queued + c.running === 0) return html``;
  const minutes = Math.max(0, Math.round((Date.parse(view.estimated_completion_at) - now) / 60_000));
  return html`<p id="eta">Estimated completion: <time datetime="${view.estimated_completion_at}">${view.estimated_completion_at}</time> <span class="muted">(about ${minutes} min)</span></p>`;
}

function summary(input: BatchPageInput): SafeHtml {
  const { view, batch } = input;
  const c = view.request_counts;
  const ended = c.succeeded + c.failed + c.canceled;
  const percent = c.total > 0 ? Math.floor((100 * ended) / c.total) : 100;
  return html`<section id="progress">
<h1>Batch <code>${batch.id}</code> <span class="badge ${view.status}" id="batch-status">${view.status}</span></h1>
<p class="muted">Tenant <a href="${tenantBatchesPath(batch.tenant)}">${batch.tenant}</a> · created <time>${view.created_at}</time>${view.completed_at ? html` · ended <time>${view.completed_at}</time>` : ''}</p>
<dl class="counts">${COUNTS.map((k) => html`<div><dt>${k}</dt><dd data-count="${k}">${c[k]}</dd></div>`)}</dl>
${progressBar(view)}
<p><span id="ended">${ended} of ${c.total} ended (${percent}%)</span></p>
${eta(view, input.now)}
${input.resultsUrl ? html`<p><a id="results-link" href="${input.resultsUrl}">results.jsonl</a> <span class="muted">(${view.results?.bytes ?? '?'} bytes)</span></p>` : ''}
${
  c.failed > 0
    ? html`<p><button type="button" id="retry-failed" data-batch="${batch.id}">Retry failed items (${c.failed})</button><span id="retry-status" role="status"></span></p>`
    : ''
}
${view.metadata ? html`<details><summary>Metadata</summary><pre id="metadata">${JSON.stringify(view.metadata, null, 2)}</pre></details>` : ''}
</section>`;
}

const prompt = (row: ItemRow) => row.record?.request.prompt ?? '';
const label = (row: ItemRow) => `#${row.index}${row.record?.custom_id === undefined ? '' : ` ${row.record.custom_id}`}`;

function tile(row: ItemRow): SafeHtml {
  const status = row.record?.status ?? 'expired';
  const stored = row.record?.result;
  const thumb = row.imageUrl
    ? html`<img src="${row.imageUrl}" alt="${prompt(row)}" loading="lazy" width="${stored?.width ?? ''}" height="${stored?.height ?? ''}">`
    : html`<div class="thumb">${status === 'failed' ? (row.record?.error?.code ?? 'failed') : status}</div>`;
  return html`<figure class="tile ${status}" data-id="${row.id}" data-status="${status}">${thumb}<figcaption title="${prompt(row)}"><b>${label(row)}</b> ${prompt(row)}</figcaption></figure>`;
}

function failedTable(rows: ItemRow[]): SafeHtml {
  const failed = rows.filter((r) => r.record?.status === 'failed');
  if (failed.length === 0) return html`<p class="muted" id="no-failed">No failed items on this page.</p>`;
  return html`<table id="failed-items">
<thead><tr><th>#</th><th>custom_id</th><th>id</th><th>error code</th><th>error message</th><th>prompt</th></tr></thead>
<tbody>${failed.map(
    (r) =>
      html`<tr data-id="${r.id}"><td>${r.index}</td><td>${r.record?.custom_id ?? ''}</td><td><code>${r.id}</code></td><td class="error-code">${r.record?.error?.code ?? ''}</td><td class="error-message">${r.record?.error?.message ?? ''}</td><td class="prompt">${prompt(r)}</td></tr>`,
  )}</tbody>
</table>`;
}

function pager(input: BatchPageInput): SafeHtml {
  const { batch, items, status } = input;
  const filters: (Status | undefined)[] = [undefined, 'failed', 'succeeded'];
  const first = items.rows[0]?.index;
  const last = items.rows.at(-1)?.index;
  return html`<nav class="pages">
${filters.map((s) => (s === status ? html`<b>${s ?? 'all'}</b>` : html`<a href="${batchPath(batch.id, { status: s })}">${s ?? 'all'}</a>`))}
<span class="muted">${first === undefined || last === undefined ? 'no items here' : `items ${first + 1}–${last + 1} of ${batch.total}`}</span>
${items.cursor > 0 ? html`<a href="${batchPath(batch.id, { status })}">first page</a>` : ''}
${items.next === null ? '' : html`<a id="next-page" href="${batchPath(batch.id, { status, cursor: items.next })}">next page</a>`}
</nav>`;
}

export function batchPage(input: BatchPageInput): Page {
  const { rows } = input.items;
  return {
    title: `Batch ${input.batch.id}`,
    body: html`${summary(input)}
<section id="items"><h2>Items</h2>${pager(input)}<div class="grid">${rows.map(tile)}</div></section>
<section><h2>Failed items</h2>${failedTable(rows)}</section>`,
    script: input.view.request_counts.failed > 0 ? RETRY_SCRIPT : undefined,
  };
}
