import { describe, expect, it } from 'vitest';
import { checkUrl, classifyAddress } from '../src/net-guard.ts';

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['100.128.0.1', 'public'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'reserved'],
    ['8.8.8.8', 'public'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:2', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:c0a8:0101::1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fe80::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2606:4700:4700::1111', 'public'],
    ['::ffff:0:a9fe:a9fe', 'link-local'],
    ['::ffff:0:10.0.0.1', 'private'],
    ['64:ff9b:1::a9fe:a9fe', 'private'],
    ['2001:0:4136:e378::1', 'reserved'],
    ['2001:4860:4860::8888', 'public'],
    ['192.88.99.1', 'reserved'],
  ])('%s is %s', (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls);
  });
});

describe('checkUrl (resolve and check, no socket opened)', () => {
  const resolver = (table: Record<string, string[]>) => (host: string) =>
    table[host] ? Promise.resolve(table[host]) : Promise.reject(new Error('ENOTFOUND'));
  const none = { allowedHosts: [] };

  it.each([
    'http://10.0.0.5/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://100.64.1.1/',
    'http://[fd00::1]/',
    'http://[::ffff:192.168.0.1]/',
    'http://224.0.0.1/',
    'http://127.0.0.1/',
    'http://2130706434/',
    'http://0x7f.1/',
  ])('refuses %s', async (url) => {
    expect((await checkUrl(url, none, resolver({}))).ok).toBe(false);
  });

  it('refuses a name that resolves to a private address, even among public ones', async () => {
    const result = await checkUrl('https://hooks.example.test/x', none, resolver({ 'hooks.example.test': ['93.184.216.34', '10.0.0.7'] }));
    expect(result).toMatchObject({ ok: false });
  });

  it('accepts a public name and a listed address', async () => {
    expect(await checkUrl('https://hooks.example.test/x', none, resolver({ 'hooks.example.test': ['93.184.216.34'] }))).toEqual({ ok: true });
    expect(await checkUrl('http://127.0.0.1:9999/x', { allowedHosts: ['127.0.0.1'] }, resolver({}))).toEqual({ ok: true });
    expect((await checkUrl('http://127.0.0.2:9999/x', { allowedHosts: ['127.0.0.1'] }, resolver({}))).ok).toBe(false);
  });

  it('refuses other schemes', async () => {
    expect(await checkUrl('file:///etc/passwd', none, resolver({}))).toMatchObject({ ok: false });
  });
});
