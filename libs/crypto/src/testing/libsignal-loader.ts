/**
 * Loads @signalapp/libsignal-client from CommonJS code, including inside Jest.
 *
 * The package is ESM-only (`"type": "module"`, uses `import.meta.dirname`). Plain Node >= 20.19
 * loads it through `require()` (require(esm)), but Jest's own module loader refuses ESM from
 * `require` on Node < 24.9 ("Must use import to load ES Module"), and it also wraps
 * `module.createRequire` and `process.getBuiltinModule`. Jest does share host built-ins such as
 * `Buffer` with the sandbox, so `Buffer.constructor` is the host realm's `Function`; a function
 * compiled there sees the host's real `process.getBuiltinModule('node:module')`, whose
 * `createRequire` is Node's native loader. That loads the real, unmodified package (same native
 * addon Jest would load for a `.node` file). Test-only: this folder is excluded from the build.
 */
type Libsignal = typeof import('@signalapp/libsignal-client');

const PACKAGE = '@signalapp/libsignal-client';
let cached: Libsignal | undefined;

export function loadLibsignal(): Libsignal {
  if (cached) return cached;
  try {
    cached = require(PACKAGE) as Libsignal;
  } catch (error) {
    const hostFunction = (Buffer as unknown as { constructor: FunctionConstructor }).constructor;
    const hostModule = hostFunction(
      'return typeof process.getBuiltinModule === "function" ? process.getBuiltinModule("node:module") : null',
    )() as typeof import('node:module') | null;
    if (!hostModule) throw error;
    cached = hostModule.createRequire(__filename)(PACKAGE) as Libsignal;
  }
  return cached;
}
