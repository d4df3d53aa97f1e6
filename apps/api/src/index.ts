export { buildApp, type AppDeps } from './app.ts';
export { ORPHAN_AGE_MS } from './open-generations.ts';
