// The composition root's public surface: every surface (serve, gateway, demo, CLI) builds on these.
export { seedAgentTokens } from './agent-token-seed.js';
export type { AgentTokenSeeds, SeededAgent } from './agent-token-seed.js';
export { coreConfigOf } from './core-config.js';
export { createCore } from './core.js';
export type { Core, CoreConfig, CoreOptions, DatabaseLocation } from './core.js';
export { createDetectors, lazyDetectors } from './detectors.js';
export { startDemoGateway } from './demo.js';
export type { DemoGateway } from './demo.js';
export { startGateway } from './gateway-runtime.js';
export type { GatewayRuntime, GatewayRuntimeOptions } from './gateway-runtime.js';
export { listenErrorOf } from './listen-error.js';
export { createOfflineDecider } from './offline.js';
export { processIo } from './process-io.js';
export { createServerApp, startServer } from './server.js';
export type { RunningServer } from './server.js';
export { httpOptionsOf } from './http-options.js';
export type { HttpOptions } from './http-options.js';
