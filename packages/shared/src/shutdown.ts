import type { Logger } from 'pino';

/**
 * Runs `shutdown` once, on the first SIGTERM or SIGINT, then exits: 0 when it finished, 1 when it
 * threw. A second signal while shutting down is ignored rather than cutting the drain short.
 */
export function stopOnSignals(logger: Logger, shutdown: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    shutdown().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
