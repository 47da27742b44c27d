// The registry's Prometheus metrics: requests by route and status, latency, bytes in and out.
import type { MetricsRegistry, Counter, Histogram } from "../lib/metrics.ts";

export interface RegistryMetrics {
  readonly requests: Counter;
  readonly duration: Histogram;
  readonly bytesIn: Counter;
  readonly bytesOut: Counter;
}

export function createRegistryMetrics(registry: MetricsRegistry): RegistryMetrics {
  return {
    requests: registry.counter("strata_http_requests_total", "HTTP requests by route, method and status"),
    duration: registry.histogram(
      "strata_http_request_duration_seconds",
      "HTTP request latency by route and method",
    ),
    bytesIn: registry.counter("strata_http_received_bytes_total", "Bytes received on the wire, by route"),
    bytesOut: registry.counter("strata_http_sent_bytes_total", "Bytes sent on the wire, by route"),
  };
}
