// Property tests explore new random inputs on every local run; CI replays a fixed seed so that a
// landing is judged on the same cases each time. A failure prints its seed and path either way
// (replay it with FC_SEED=<seed>); set FC_SEED=random to explore under CI=true too.
import fc from 'fast-check';

const given = process.env.FC_SEED;
const seed = given === 'random' ? undefined : given !== undefined ? Number(given) : process.env.CI ? 20261124 : undefined;
if (seed !== undefined) fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
