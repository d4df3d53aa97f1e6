/**
 * Reads a Prometheus text exposition into samples keyed by series, e.g.
 * `darkroom_queue_jobs{queue="generate",state="paused"}` → 2. Label order is as the server wrote it.
 */
export async function scrape(metricsUrl: string): Promise<Map<string, number>> {
  const res = await fetch(`${metricsUrl}/metrics`);
  if (res.status !== 200) throw new Error(`${metricsUrl}/metrics answered ${res.status}`);
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** One sample's value, polled by tests through expect.poll: the API caches fleet readings for a second. */
export async function sample(metricsUrl: string, series: string): Promise<number | undefined> {
  return (await scrape(metricsUrl)).get(series);
}
