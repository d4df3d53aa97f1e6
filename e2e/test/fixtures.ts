import { test as base } from 'vitest';
import { startSimulator, type Simulator } from '@darkroom/zai-sim';
import { startStack, type Stack, type StackOptions } from './stack.ts';

/**
 * `sim`: a fresh Z.AI simulator; `launch`: starts a Stack against it, stopped and cleaned after
 * the test (an open worker would otherwise leak into the next test).
 */
export const test = base.extend<{ sim: Simulator; launch: (opts?: Omit<StackOptions, 'sim'>) => Promise<Stack> }>({
  sim: async ({}, use) => {
    const sim = await startSimulator({ apiKeys: ['sim-key'] });
    await use(sim);
    await sim.close();
  },
  launch: async ({ sim }, use) => {
    const stacks: Stack[] = [];
    await use(async (opts = {}) => {
      const stack = await startStack({ sim, ...opts });
      stacks.push(stack);
      return stack;
    });
    for (const stack of stacks) await stack.close();
  },
});

export { expect, describe } from 'vitest';
