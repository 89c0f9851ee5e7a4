import { WardenError } from '../domain/index.js';

/** Where metrics are served and spans exported: `warden serve` and `warden gateway` alike. */
export interface TelemetrySettings {
  /** A port of its own for `/metrics`, `/healthz` and `/readyz` (scrapers and probes, not agents). */
  metricsPort?: number;
  /** @default '127.0.0.1' */
  metricsHost?: string;
  /**
   * The bearer token `/metrics` asks for. With it, `/metrics` is also served on the API (serve) and
   * the MCP port (gateway --http); without it, only on the metrics port.
   */
  metricsToken?: string;
  /** The OTLP/HTTP traces endpoint. */
  otlpEndpoint?: string;
  otlpHeaders?: Record<string, string>;
}

/** The flags both commands take. */
export interface TelemetryFlags {
  metricsPort?: string | undefined;
  metricsHost?: string | undefined;
}

function httpUrl(name: string, value: string): string {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw new WardenError('config.invalid', `${name} must be an http:// or https:// URL, not \`${value.slice(0, 200)}\``, { help: 'the OTLP/HTTP endpoint of a collector, e.g. http://127.0.0.1:4318' });
  }
  return value;
}

/** `k1=v1,k2=v2` with URL-encoded values, as OpenTelemetry's `OTEL_EXPORTER_OTLP_HEADERS` takes them. */
function headersOf(value: string | undefined): Record<string, string> | undefined {
  if (!value) return undefined;
  const out: Record<string, string> = {};
  for (const part of value.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) throw new WardenError('config.invalid', `OTEL_EXPORTER_OTLP_HEADERS holds \`${part.slice(0, 100)}\`, which is not key=value`, { help: 'write it as key1=value1,key2=value2 (values URL-encoded)' });
    try {
      out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      throw new WardenError('config.invalid', `OTEL_EXPORTER_OTLP_HEADERS: the value of \`${part.slice(0, i).trim()}\` is not valid URL encoding`);
    }
  }
  return out;
}

/**
 * Metrics and tracing settings from flags over the environment: `--metrics-port` / `WARDEN_METRICS_PORT`,
 * `--metrics-host` / `WARDEN_METRICS_HOST`, `WARDEN_METRICS_TOKEN`, and OpenTelemetry's own variables
 * (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`;
 * `OTEL_EXPORTER_OTLP_HEADERS`; `OTEL_SDK_DISABLED=true` turns export off). Throws `config.invalid`.
 */
export function telemetrySettingsOf(flags: TelemetryFlags, env: Readonly<Record<string, string | undefined>>): TelemetrySettings {
  const portText = flags.metricsPort ?? env.WARDEN_METRICS_PORT;
  let metricsPort: number | undefined;
  if (portText !== undefined && portText !== '') {
    metricsPort = Number(portText);
    if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535) throw new WardenError('config.invalid', `the metrics port must be a whole number from 0 to 65535, not \`${portText.slice(0, 50)}\``);
  }
  const token = env.WARDEN_METRICS_TOKEN;
  if (token !== undefined && token.length < 16) throw new WardenError('config.invalid', 'WARDEN_METRICS_TOKEN is shorter than 16 characters', { help: 'use a long random value, e.g. `openssl rand -hex 24`' });
  const disabled = env.OTEL_SDK_DISABLED?.toLowerCase() === 'true';
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const endpoint = disabled ? undefined : traces ? httpUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', traces) : base ? `${httpUrl('OTEL_EXPORTER_OTLP_ENDPOINT', base).replace(/\/+$/, '')}/v1/traces` : undefined;
  const headers = endpoint ? headersOf(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS) : undefined;
  const host = flags.metricsHost ?? env.WARDEN_METRICS_HOST;
  return {
    ...(metricsPort !== undefined ? { metricsPort } : {}),
    ...(host ? { metricsHost: host } : {}),
    ...(token ? { metricsToken: token } : {}),
    ...(endpoint ? { otlpEndpoint: endpoint } : {}),
    ...(headers ? { otlpHeaders: headers } : {}),
  };
}
