import { EnvError, loadSimulatorEnv } from './env.ts';
import { startSimulator } from './server.ts';

let options: ReturnType<typeof loadSimulatorEnv>;
try {
  options = loadSimulatorEnv(process.env);
} catch (error) {
  if (!(error instanceof EnvError)) throw error;
  console.error(`zai-sim: invalid environment: ${error.message}`);
  process.exit(2);
}

const sim = await startSimulator(options).catch((error: unknown) => {
  console.error(`zai-sim: cannot listen on ${options.host}:${options.port}: ${String(error)}`);
  process.exit(1);
});
const shutdown = (signal: NodeJS.Signals) => {
  console.error(`zai-sim: ${signal}, closing`);
  sim.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error('zai-sim: close failed', error);
      process.exit(1);
    },
  );
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
// Only after the handlers: a caller may signal as soon as it reads this line.
console.log(JSON.stringify({ event: 'listening', url: sim.url, origin: sim.origin, apiKey: sim.apiKey }));
