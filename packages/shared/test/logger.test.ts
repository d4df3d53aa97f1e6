import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.ts';

describe('logger', () => {
  it('never writes credentials', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger({ level: 'info', name: 't' }, sink);
    log.info({ req: { headers: { authorization: 'Bearer dk_secret1' } }, tenant: { api_key: 'dk_secret2', webhook_secret: 'whsec_secret3' } }, 'x');
    log.info({ config: { zai: { apiKey: 'zai-secret4' }, s3: { credentials: { secretAccessKey: 'secret5' } } } }, 'y');
    const out = lines.join('');
    for (const secret of ['dk_secret1', 'dk_secret2', 'whsec_secret3', 'zai-secret4', 'secret5']) expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
    expect(JSON.parse(lines[0]!)).toMatchObject({ name: 't', msg: 'x' });
  });
});
