import { describe, expect, it } from 'vitest';
import { telemetrySettingsOf } from './telemetry-settings.js';

describe('telemetry settings', () => {
  it('reads OpenTelemetry variables: the traces endpoint over the base one (+ /v1/traces), headers URL-decoded, OTEL_SDK_DISABLED turning export off', () => {
    expect(telemetrySettingsOf({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318/' })).toEqual({ otlpEndpoint: 'http://otel:4318/v1/traces' });
    expect(telemetrySettingsOf({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://x/v1/t' }).otlpEndpoint).toBe('https://x/v1/t');
    expect(telemetrySettingsOf({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318', OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a%20b,x=1' }).otlpHeaders).toEqual({ 'api-key': 'a b', x: '1' });
    expect(telemetrySettingsOf({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318', OTEL_SDK_DISABLED: 'true' })).toEqual({});
    expect(telemetrySettingsOf({}, {})).toEqual({});
  });

  it('refuses a non-http endpoint, malformed headers, a bad port and a short scrape token, with config.invalid', () => {
    for (const env of [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://otel:4317' }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://o', OTEL_EXPORTER_OTLP_HEADERS: 'novalue' }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://o', OTEL_EXPORTER_OTLP_HEADERS: 'k=%zz' }, { WARDEN_METRICS_TOKEN: 'short' }, { WARDEN_METRICS_PORT: '70000' }, { WARDEN_METRICS_PORT: '1.5' }]) {
      expect(() => telemetrySettingsOf({}, env), JSON.stringify(env)).toThrow(expect.objectContaining({ code: 'config.invalid' }));
    }
  });

  it('takes the metrics port from the flag over the environment', () => {
    expect(telemetrySettingsOf({ metricsPort: '9464' }, { WARDEN_METRICS_PORT: '1' }).metricsPort).toBe(9464);
    expect(telemetrySettingsOf({}, { WARDEN_METRICS_PORT: '0', WARDEN_METRICS_HOST: '0.0.0.0' })).toEqual({ metricsPort: 0, metricsHost: '0.0.0.0' });
  });
});
