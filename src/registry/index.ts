export { parseRegistryFile, RegistryDocSchema } from './registry-file.js';
export type { RegistryDoc } from './registry-file.js';
export { createStaticRegistry } from './static-registry.js';
