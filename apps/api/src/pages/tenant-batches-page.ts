/**
 * A tenant's batches, newest first, each with its status, counts and a link to its page.
 */
import type { BatchView } from '@darkroom/shared';
import { batchPath, progressBar, tenantBatchesPath } from './batch-page.ts';
import { html } from './html.ts';
import type { Page } from './layout.ts';

export interface TenantBatchesInput {
  tenant: string;
  batches: BatchView[];
  /** The cursor of the next page, or null at the end. */
  next: string | null;
  first: boolean;
}

export function tenantBatchesPage(input: TenantBatchesInput): Page {
  const { tenant, batches, next } = input;
  const rows = batches.map((b) => {
    const c = b.request_counts;
    return html`<tr data-id="${b.id}">
<td><a href="${batchPath(b.id)}"><code>${b.id}</code></a></td>
<td><span class="badge ${b.status}">${b.status}</span></td>
<td>${progressBar(b, true)}</td>
<td>${c.succeeded}</td><td>${c.failed}</td><td>${c.canceled}</td><td>${c.total}</td>
<td><time>${b.created_at}</time></td></tr>`;
  });
  const base = tenantBatchesPath(tenant);
  return {
    title: `Batches of ${tenant}`,
    body: html`<h1>Batches of ${tenant}</h1>
${
  batches.length === 0
    ? html`<p class="muted" id="no-batches">No batches${input.first ? '' : ' further'}.</p>`
    : html`<table id="batches"><thead><tr><th>batch</th><th>status</th><th>progress</th><th>succeeded</th><th>failed</th><th>canceled</th><th>total</th><th>created</th></tr></thead>
<tbody>${rows}</tbody></table>`
}
<nav class="pages">${input.first ? '' : html`<a href="${base}">newest</a>`}${next === null ? '' : html`<a id="next-page" href="${`${base}?cursor=${encodeURIComponent(next)}`}">older</a>`}</nav>`,
  };
}
