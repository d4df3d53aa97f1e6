/**
 * OpenTelemetry tracing, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then one tracer provider
 * per process exports spans over OTLP/HTTP (JSON) to `${endpoint}/v1/traces`, and BullMQ carries
 * the trace context from each `add` to the job's processing (bullmq-otel, in the job's
 * `opts.telemetry`), so API → generate → store → notify is one trace across processes.
 * Without an endpoint nothing is registered and `span()` runs its function under OpenTelemetry's
 * no-op tracer.
 */
import { SpanStatusCode, context, propagation, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { Telemetry } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';

const TRACER = 'darkroom';

export interface Tracing {
  /** For BullMQ's Queue and Worker `telemetry` option. */
  telemetry: Telemetry;
  /** Exports what is buffered and stops; call last on shutdown. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT; undefined = tracing off. */
  endpoint: string | undefined;
  serviceName: string;
}

export function startTracing(opts: TracingOptions): Tracing | undefined {
  if (!opts.endpoint) return undefined;
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${opts.endpoint}/v1/traces` }) })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    telemetry: new BullMQOtel(TRACER) as Telemetry,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/**
 * Runs `fn` inside a span named `name` (a child of the active span), records an error it throws,
 * and ends the span when it settles.
 */
export async function span<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  return trace.getTracer(TRACER).startActiveSpan(name, { attributes }, async (s) => {
    try {
      return await fn();
    } catch (err) {
      s.recordException(err as Error);
      s.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      s.end();
    }
  });
}
