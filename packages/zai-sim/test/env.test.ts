import { describe, expect, it } from 'vitest';
import { EnvError, loadSimulatorEnv } from '../src/index.ts';

describe('loadSimulatorEnv', () => {
  it('has CLI defaults: 127.0.0.1:4010 and key sim-key', () => {
    expect(loadSimulatorEnv({})).toEqual({ host: '127.0.0.1', port: 4010, apiKeys: ['sim-key'] });
  });

  it('reads every variable; hd latency defaults to double the standard one', () => {
    const options = loadSimulatorEnv({
      ZAI_SIM_PORT: '0',
      ZAI_SIM_HOST: '0.0.0.0',
      ZAI_SIM_API_KEY: 'a-key,b-key',
      ZAI_SIM_LATENCY_MS: '5000-10000',
      ZAI_SIM_FAULTS: 'rate429=0.2,rate500=0.1,rateTimeout=0.05,rateMalformed=0.02',
      ZAI_SIM_IMAGE_DELAY_MS: '250',
      ZAI_SIM_URL_TTL_MS: '60000',
      ZAI_SIM_MAX_CONCURRENCY: '8',
      ZAI_SIM_MAX_RPS: '20',
      ZAI_SIM_ERROR_SHAPE: 'flat',
      ZAI_SIM_CONTENT_FILTER_LEVEL: '2',
      ZAI_SIM_PUBLIC_ORIGIN: 'http://zai-sim:4010',
    });
    expect(options).toEqual({
      host: '0.0.0.0',
      port: 0,
      apiKeys: ['a-key', 'b-key'],
      latencyMs: { standard: [5000, 10000], hd: [10000, 20000] },
      faults: { rate429: 0.2, rate500: 0.1, rateTimeout: 0.05, rateMalformed: 0.02 },
      imageDelayMs: 250,
      urlTtlMs: 60000,
      maxConcurrency: 8,
      maxRps: 20,
      errorShape: 'flat',
      contentFilterLevel: 2,
      publicOrigin: 'http://zai-sim:4010',
    });
  });

  it('accepts a single latency value and an explicit hd range', () => {
    expect(loadSimulatorEnv({ ZAI_SIM_LATENCY_MS: '300', ZAI_SIM_HD_LATENCY_MS: '400-500' }).latencyMs).toEqual({
      standard: [300, 300],
      hd: [400, 500],
    });
  });

  it('treats empty values as unset', () => {
    expect(loadSimulatorEnv({ ZAI_SIM_PORT: '', ZAI_SIM_FAULTS: ' ' }).port).toBe(4010);
  });

  it.each([
    ['ZAI_SIM_PORT', '1.5'],
    ['ZAI_SIM_LATENCY_MS', 'fast'],
    ['ZAI_SIM_FAULTS', 'rate429'],
    ['ZAI_SIM_FAULTS', 'rate429=0.7,rate500=0.7'],
    ['ZAI_SIM_MAX_CONCURRENCY', '0'],
    ['ZAI_SIM_ERROR_SHAPE', 'json'],
    ['ZAI_SIM_CONTENT_FILTER_LEVEL', '4'],
    ['ZAI_SIM_API_KEY', 'a, ,b'],
    ['ZAI_SIM_PUBLIC_ORIGIN', 'zai-sim:4010'],
  ])('rejects %s=%j with an EnvError naming it', (name, value) => {
    let caught: unknown;
    try {
      loadSimulatorEnv({ [name]: value });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(EnvError);
    expect((caught as EnvError).variable).toBe(name);
    expect((caught as EnvError).message).toContain(name);
  });
});
