import type { Logger } from 'pino';

/**
 * Runs `shutdown` once, on the first SIGTERM or SIGINT, then exits: 0 when it finished, 1 when it
 * threw or outlasted `forceExitMs` (a drain that cannot reach Redis would otherwise hang forever;
 * exiting then is no worse than a crash, which stall recovery already covers). A second signal
 * while shutting down is ignored rather than cutting the drain short.
 */
export function stopOnSignals(logger: Logger, forceExitMs: number, shutdown: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    setTimeout(() => {
      logger.error({ forceExitMs }, 'shutdown did not finish in time: exiting anyway');
      process.exit(1);
    }, forceExitMs).unref();
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
