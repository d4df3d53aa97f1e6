export { createWorker, type RunningWorker, type WorkerDeps } from './worker.ts';
export { createZaiClient, type ZaiClient } from './zai-client.ts';
