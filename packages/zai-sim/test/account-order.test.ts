import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EnvError, loadSimulatorEnv } from '../src/index.ts';
import type { Simulator } from '../src/index.ts';
import { MODEL, generate, start } from './helpers.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await start();
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.configure({ validateFirst: false, accountFault: null });
  sim.reset();
});

const emptyPrompt = { model: MODEL, prompt: '' };

describe('standing account fault and check order', () => {
  it('a standing balance fault answers every call until it is cleared', async () => {
    sim.configure({ accountFault: 'balance_1113' });
    for (let i = 0; i < 3; i++) expect(await generate(sim)).toMatchObject({ status: 429, json: { error: { code: '1113' } } });
    expect(sim.stats().generations).toBe(0);
    sim.configure({ accountFault: null });
    expect((await generate(sim)).status).toBe(200);
  });

  it('by default the account is checked first: an empty prompt on a bad account answers 1113', async () => {
    sim.configure({ accountFault: 'balance_1113' });
    expect(await generate(sim, emptyPrompt)).toMatchObject({ status: 429, json: { error: { code: '1113' } } });
  });

  it('with validateFirst an empty prompt answers a parameter error even though the account is bad', async () => {
    sim.configure({ accountFault: 'balance_1113', validateFirst: true });
    expect(await generate(sim, emptyPrompt)).toMatchObject({ status: 400, json: { error: { code: '1213' } } });
    expect(await generate(sim)).toMatchObject({ status: 429, json: { error: { code: '1113' } } });
  });

  it('with validateFirst a queued account fault waits for a valid body', async () => {
    sim.configure({ validateFirst: true });
    sim.failNext('account_locked_1112');
    expect((await generate(sim, emptyPrompt)).status).toBe(400);
    expect(await generate(sim)).toMatchObject({ status: 429, json: { error: { code: '1112' } } });
    expect((await generate(sim)).status).toBe(200);
  });

  it('refuses a standing fault that is not an account fault', () => {
    expect(() => sim.configure({ accountFault: 'server_error_500' })).toThrow(/account fault/);
  });

  it('reads ZAI_SIM_VALIDATE_FIRST and ZAI_SIM_ACCOUNT_FAULT', () => {
    expect(loadSimulatorEnv({ ZAI_SIM_VALIDATE_FIRST: 'true', ZAI_SIM_ACCOUNT_FAULT: 'balance_1113' })).toMatchObject({
      validateFirst: true,
      accountFault: 'balance_1113',
    });
    expect(() => loadSimulatorEnv({ ZAI_SIM_ACCOUNT_FAULT: 'timeout' })).toThrow(EnvError);
    expect(() => loadSimulatorEnv({ ZAI_SIM_VALIDATE_FIRST: 'maybe' })).toThrow(EnvError);
  });
});
