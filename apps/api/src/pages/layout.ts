/**
 * The shell of the admin pages: inline CSS and script (no build step, nothing from a CDN), both
 * allowed by a per-response nonce in a Content-Security-Policy that allows nothing else, so even
 * markup that slipped past escaping could not run. Images may come from any http(s) origin: the
 * presigned S3 links point at wherever S3 is.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { html, trusted, type SafeHtml } from './html.ts';

const CSS = `
:root { font: 14px/1.45 system-ui, sans-serif; color: #1d232a; background: #f6f7f9; }
body { margin: 0 auto; max-width: 1200px; padding: 16px 24px 48px; }
h1 { font-size: 20px; margin: 8px 0; word-break: break-all; }
h2 { font-size: 16px; margin: 28px 0 8px; }
a { color: #1f5fbf; }
code, pre { font: 12px/1.4 ui-monospace, monospace; }
pre { background: #fff; border: 1px solid #dde1e6; padding: 8px; overflow: auto; max-height: 240px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; background: #dde1e6; font-size: 12px; }
.badge.completed, .badge.succeeded { background: #cdeccf; } .badge.failed, .badge.expired { background: #f6cccc; }
.badge.in_progress, .badge.finalizing, .badge.running, .badge.generating, .badge.storing { background: #cfe0f7; }
.counts { display: flex; flex-wrap: wrap; gap: 8px 24px; margin: 8px 0; }
.counts div { min-width: 80px; } .counts dt { color: #5b6570; font-size: 12px; } .counts dd { margin: 0; font-size: 20px; }
.bar { display: block; width: 100%; height: 14px; background: #e4e7eb; border-radius: 7px; }
.bar.small { height: 8px; width: 160px; }
.seg-succeeded { fill: #2e9e4f; } .seg-failed { fill: #d64545; } .seg-canceled { fill: #8a939c; } .seg-running { fill: #3b82d6; }
.muted { color: #5b6570; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: 10px; }
.tile { margin: 0; background: #fff; border: 1px solid #dde1e6; border-radius: 6px; overflow: hidden; }
.tile .thumb { display: flex; align-items: center; justify-content: center; height: 128px; background: #eef0f3; font-size: 12px; }
.tile img { width: 100%; height: 128px; object-fit: cover; display: block; }
.tile.failed .thumb { background: #fbe3e3; color: #9b1c1c; }
.tile figcaption { padding: 4px 6px; font-size: 11px; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border: 1px solid #dde1e6; padding: 4px 8px; text-align: left; vertical-align: top; font-size: 13px; }
td.prompt { max-width: 420px; overflow-wrap: anywhere; }
nav.pages { display: flex; gap: 16px; margin: 8px 0; }
button { font: inherit; padding: 6px 14px; border-radius: 6px; border: 1px solid #b42318; background: #d64545; color: #fff; cursor: pointer; }
button:disabled { opacity: .6; cursor: default; }
#retry-status { margin-left: 12px; }
`;

export interface Page {
  title: string;
  body: SafeHtml;
  /** Inline JavaScript of ours, run with the page's nonce. */
  script?: string;
}

function document(page: Page, nonce: string): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${page.title} · Darkroom</title>
<style nonce="${nonce}">${trusted(CSS)}</style>
</head>
<body>
${page.body}
${page.script ? html`<script nonce="${nonce}">${trusted(page.script)}</script>` : ''}
</body>
</html>
`.value;
}

/** Sends `page` as HTML, never cached (it shows live counts and short-lived image links). */
export function sendPage(reply: FastifyReply, page: Page, status = 200): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  const csp = [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    'img-src http: https: data:',
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', csp)
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .send(document(page, nonce));
}

/** A page that only says what went wrong (unknown batch, bad query). */
export function messagePage(title: string, message: string): Page {
  return { title, body: html`<h1>${title}</h1><p id="message">${message}</p>` };
}
