/**
 * The admin's batch page and Bull Board, opened in a real headless Chromium against the real API,
 * Redis, S3 server and worker. Batches are submitted through the API and run through the worker's
 * dispatcher and its generate and store stages; failures are the simulator's.
 */
import type { Browser, Page } from 'playwright-core';
import { redisKeys } from '@darkroom/shared';
import type { Simulator } from '@darkroom/zai-sim';
import { onTestFinished } from 'vitest';
import { submitBatch, waitForBatch } from './batch-client.ts';
import { NO_CHROMIUM, findChromium, launchChromium } from './browser.ts';
import { describe, expect, test } from './fixtures.ts';
import type { Stack } from './stack.ts';
import { waitUntil } from './wait.ts';

const ADMIN = 'admin-token-0123456789';
const XSS_PROMPT = `a fox</figcaption><script>window.__pwned = 'script'</script><img src=x onerror="window.__pwned = 'img'"> "quoted" & 'single'`;
const XSS_META = { note: `</pre><script>window.__pwned = 'metadata'</script>` };
const CHROMIUM = findChromium();

async function openBrowser(): Promise<Browser> {
  const browser = await launchChromium(CHROMIUM ?? '');
  onTestFinished(() => browser.close());
  return browser;
}

/**
 * A page that sends the admin token to the API only. Not extraHTTPHeaders: that sends it to every
 * origin, and S3 refuses a presigned GET that also carries an Authorization header (400).
 */
async function adminPage(browser: Browser, apiUrl: string): Promise<Page> {
  const context = await browser.newContext();
  await context.route(`${apiUrl}/**`, (route) => route.continue({ headers: { ...route.request().headers(), authorization: `Bearer ${ADMIN}` } }));
  return context.newPage();
}

// What the browser-side callbacks touch (e2e compiles without the DOM library).
interface ImageElement {
  complete: boolean;
  naturalWidth: number;
  src: string;
  addEventListener(type: 'load', listener: () => void, options: { once: boolean }): void;
}
interface AnyElement {
  getAttribute(name: string): string | null;
}

const count = async (page: Page, name: string) => Number(await page.locator(`[data-count="${name}"]`).textContent());

/** Waits until every thumbnail on the page has loaded from S3, and returns their natural widths. */
async function thumbnailWidths(page: Page): Promise<number[]> {
  const images = page.locator('figure.tile img');
  for (const image of await images.all()) {
    await image.scrollIntoViewIfNeeded();
    await image.evaluate((img: ImageElement) => (img.complete ? undefined : new Promise<void>((resolve) => img.addEventListener('load', resolve, { once: true }))));
  }
  return images.evaluateAll((all: ImageElement[]) => all.map((img) => img.naturalWidth));
}

/** A batch of six, two of which Z.AI refuses (1261); run to the end through the real worker. */
async function finishedBatch(stack: Stack, sim: Simulator) {
  sim.failNext('prompt_too_long_1261', 2);
  const prompts = ['a red kite', 'a blue heron', XSS_PROMPT, 'a grey wolf', 'a white owl', 'a black cat'];
  const seeded = await submitBatch(
    stack,
    prompts.map((prompt, i) => ({ prompt, custom_id: i === 2 ? '<b>bold-id</b>' : `item-${i}` })),
    { metadata: XSS_META },
  );
  await waitForBatch(stack, seeded.id, ['finalizing', 'completed'], 30_000);
  const records = await Promise.all(seeded.ids.map(async (id) => (await stack.generations.get(id))!));
  return { ...seeded, records };
}

describe('the admin batch page', () => {
  test('answers only the admin token, and a 404 page for an unknown batch', async ({ launch }) => {
    const stack = await launch({ env: { ADMIN_TOKEN: ADMIN }, worker: false });
    const { id } = await submitBatch(stack, [{ prompt: 'one' }]);
    const get = (path: string, token?: string) => fetch(`${stack.apiUrl}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    for (const path of [`/admin/batches/${id}`, `/admin/tenants/${stack.tenant}/batches`]) {
      expect((await get(path)).status).toBe(401);
      expect((await get(path, stack.apiKey)).status).toBe(401);
      const ok = await get(path, ADMIN);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toMatch(/^text\/html/);
      expect(ok.headers.get('content-security-policy')).toContain("script-src 'nonce-");
    }
    const missing = await get('/admin/batches/batch_00000000000000000000000000000000', ADMIN);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('no batch batch_00000000000000000000000000000000');
  });

  test('escapes prompts, custom ids and metadata in the HTML itself', async ({ launch }) => {
    const stack = await launch({ env: { ADMIN_TOKEN: ADMIN }, worker: false });
    const { id } = await submitBatch(stack, [{ prompt: XSS_PROMPT, custom_id: '<b>bold-id</b>' }], { metadata: XSS_META });
    const body = await (await fetch(`${stack.apiUrl}/admin/batches/${id}`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
    expect(body).not.toContain('<script>window.__pwned');
    expect(body).not.toContain('<img src=x');
    expect(body).not.toContain('<b>bold-id</b>');
    expect(body).toContain('&lt;script&gt;window.__pwned = &#39;script&#39;&lt;/script&gt;');
    expect(body).toContain('&lt;b&gt;bold-id&lt;/b&gt;');
  });

  test('pages through a large batch in input order, and ?status=failed reads on past 2,000 items to find failures', async ({ launch }) => {
    const stack = await launch({ env: { ADMIN_TOKEN: ADMIN, TENANT_MAX_UNFINISHED: '2300' }, worker: false });
    const { id, ids } = await submitBatch(stack, Array.from({ length: 2_300 }, (_, i) => ({ prompt: `p${i}` })), { jsonl: true });
    const failedAt = [5, 1_999, 2_000, 2_299];
    for (const i of failedAt) expect(await stack.generations.update(ids[i]!, { status: 'failed', error: { code: '1261', message: 'too long' } })).toBe(true);

    const walk = async (first: string, row: RegExp) => {
      const seen: string[] = [];
      let requests = 0;
      for (let path: string | undefined = first; path; requests++) {
        const body = await (await fetch(`${stack.apiUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
        seen.push(...[...body.matchAll(row)].map((m) => m[1]!));
        path = /id="next-page" href="([^"]+)"/.exec(body)?.[1]?.replaceAll('&amp;', '&');
      }
      return { seen, requests };
    };
    const all = await walk(`/admin/batches/${id}`, /<figure class="tile \w+" data-id="(gen_[0-9a-f]{32})"/g);
    expect(all.seen).toEqual(ids);
    expect(all.requests).toBe(12);
    const failed = await walk(`/admin/batches/${id}?status=failed`, /<tr data-id="(gen_[0-9a-f]{32})"/g);
    expect(failed.seen).toEqual(failedAt.map((i) => ids[i]));
    expect(failed.requests).toBe(2);
  });

  test('renders progress, S3 thumbnails, failed items with their errors, and user input as inert text', async ({ launch, sim, skip }) => {
    skip(!CHROMIUM, NO_CHROMIUM);
    const stack = await launch({ env: { ADMIN_TOKEN: ADMIN } });
    const { id, records } = await finishedBatch(stack, sim);
    const failed = records.filter((r) => r.status === 'failed');
    const succeeded = records.filter((r) => r.status === 'succeeded');
    expect(failed).toHaveLength(2);
    expect(succeeded).toHaveLength(4);

    const page = await adminPage(await openBrowser(), stack.apiUrl);
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${stack.apiUrl}/admin/batches/${id}`);

    expect(await page.locator('#batch-status').textContent()).toMatch(/^(finalizing|completed)$/);
    expect(await count(page, 'total')).toBe(6);
    expect(await count(page, 'succeeded')).toBe(4);
    expect(await count(page, 'failed')).toBe(2);
    expect(await count(page, 'queued')).toBe(0);
    expect(await page.locator('#ended').textContent()).toBe('6 of 6 ended (100%)');
    expect(await page.locator('svg.bar rect').count()).toBe(2);

    const widths = await thumbnailWidths(page);
    expect(widths).toEqual(succeeded.map((r) => r.result!.width));
    expect(widths.every((w) => w > 0)).toBe(true);
    const sources = await page.locator('figure.tile img').evaluateAll((all: ImageElement[]) => all.map((img) => img.src));
    for (const src of sources) expect(src.startsWith(stack.env.S3_ENDPOINT!)).toBe(true);

    const rows = page.locator('#failed-items tbody tr');
    expect(new Set(await rows.evaluateAll((all: AnyElement[]) => all.map((tr) => tr.getAttribute('data-id'))))).toEqual(new Set(failed.map((r) => r.id)));
    for (const record of failed) {
      const row = page.locator(`#failed-items tr[data-id="${record.id}"]`);
      expect(await row.locator('.error-code').textContent()).toBe('1261');
      expect(await row.locator('.error-message').textContent()).toBe(record.error!.message);
      expect(record.error!.message.length).toBeGreaterThan(0);
    }

    // The hostile prompt, custom id and metadata are on the page as text, and none of them ran.
    const xss = records.find((r) => r.request.prompt === XSS_PROMPT)!;
    const caption = page.locator(`figure.tile[data-id="${xss.id}"] figcaption`);
    expect(await caption.textContent()).toBe(`#2 <b>bold-id</b> ${XSS_PROMPT}`);
    expect(await page.locator('#metadata').textContent()).toBe(JSON.stringify(XSS_META, null, 2));
    expect(await page.evaluate(() => (globalThis as { __pwned?: string }).__pwned)).toBeUndefined();
    expect(await page.locator('script').count()).toBe(1);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(errors).toEqual([]);
  });

  test('lists a tenant\'s batches newest first, pages without repeats through ties, and links each batch', async ({ launch }) => {
    const stack = await launch({ env: { ADMIN_TOKEN: ADMIN }, worker: false });
    const keys = redisKeys(stack.prefix);
    // 55 batches created in the same millisecond: the page boundary falls among equal scores. The
    // API cannot make that happen on demand, so their creation times are set by hand afterwards.
    const backdate = async (id: string, at: number) => {
      await stack.redis.hset(keys.batch(id), 'created_at', at);
      await stack.redis.zadd(keys.tenantBatches(stack.tenant), at, id);
    };
    const older = await submitBatch(stack, [{ prompt: 'old' }]);
    await backdate(older.id, Date.now() - 60_000);
    const tied = Date.now();
    const same = [];
    for (let i = 0; i < 55; i++) {
      const { id } = await submitBatch(stack, [{ prompt: `p${i}` }]);
      await backdate(id, tied);
      same.push(id);
    }

    const listed: string[] = [];
    let path: string | undefined = `/admin/tenants/${stack.tenant}/batches`;
    while (path) {
      const body = await (await fetch(`${stack.apiUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
      listed.push(...[...body.matchAll(/<tr data-id="(batch_[0-9a-f]{32})"/g)].map((m) => m[1]!));
      path = /id="next-page" href="([^"]+)"/.exec(body)?.[1]?.replaceAll('&amp;', '&');
    }
    expect(listed).toHaveLength(56);
    expect(new Set(listed).size).toBe(56);
    expect(listed.at(-1)).toBe(older.id);
    expect(new Set(listed.slice(0, 55))).toEqual(new Set(same));

    if (!CHROMIUM) return;
    const page = await adminPage(await openBrowser(), stack.apiUrl);
    await page.goto(`${stack.apiUrl}/admin/tenants/${stack.tenant}/batches`);
    expect(await page.locator('#batches tbody tr').count()).toBe(50);
    await page.locator('#next-page').click();
    await page.waitForURL(/cursor=/);
    await page.locator(`a[href="/admin/batches/${older.id}"]`).click();
    await page.waitForURL(`**/admin/batches/${older.id}`);
    expect(await page.locator('h1 code').textContent()).toBe(older.id);
  });

  test('"Retry failed items" runs the bulk retry and the failed items end succeeded', async ({ launch, sim, skip }) => {
    skip(!CHROMIUM, NO_CHROMIUM);
    const stack = await launch({ env: { ADMIN_TOKEN: ADMIN } });
    // Lifted by the lead once h-search's POST /admin/v1/retries is merged.
    const { id, ids, records } = await finishedBatch(stack, sim);
    const failedIds = records.filter((r) => r.status === 'failed').map((r) => r.id);
    expect(failedIds).toHaveLength(2);
    const paidBefore = sim.stats().generations;

    const page = await adminPage(await openBrowser(), stack.apiUrl);
    await page.goto(`${stack.apiUrl}/admin/batches/${id}`);
    const posted = page.waitForRequest((r) => r.method() === 'POST' && r.url() === `${stack.apiUrl}/admin/v1/retries`);
    const reloaded = page.waitForEvent('load');
    await page.locator('#retry-failed').click();
    expect((await posted).postDataJSON()).toEqual({ filter: { batch_id: id, status: 'failed' } });
    await reloaded;

    await waitUntil(async () => {
      const all = await Promise.all(ids.map((i) => stack.generations.get(i)));
      return all.every((r) => r?.status === 'succeeded') || undefined;
    }, 'every item to succeed after the retry');
    expect(sim.stats().generations - paidBefore).toBe(2);
    await page.reload();
    expect(await count(page, 'succeeded')).toBe(6);
    expect(await count(page, 'failed')).toBe(0);
    expect(await page.locator('#retry-failed').count()).toBe(0);
    expect(await thumbnailWidths(page)).toHaveLength(6);
  });
});

describe('Bull Board', () => {
  test('renders the queues at /admin/queues in the browser', async ({ launch, skip }) => {
    skip(!CHROMIUM, NO_CHROMIUM);
    const stack = await launch({ env: { ADMIN_TOKEN: ADMIN }, worker: false });
    const page = await adminPage(await openBrowser(), stack.apiUrl);
    const answer = await page.goto(`${stack.apiUrl}/admin/queues`);
    expect(answer?.status()).toBe(200);
    for (const queue of ['generate', 'store', 'notify', 'finalize', 'retries']) await page.getByText(queue, { exact: true }).first().waitFor();
  });
});
