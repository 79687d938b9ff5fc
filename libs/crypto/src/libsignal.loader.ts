/**
 * Loads @signalapp/libsignal-client (ESM-only) from this CommonJS code base.
 *
 * Node ≥ 20.19 loads it with `require()` (require(esm)). Jest's module loader on Node < 24.9
 * refuses that, and the directory is booted inside Jest by the integration specs; there the
 * fallback asks the host realm's own `node:module` loader (reached through `Buffer`'s realm)
 * for the same, unmodified package. Outside Jest the first branch always wins.
 */
export type Libsignal = typeof import('@signalapp/libsignal-client');

const PACKAGE = '@signalapp/libsignal-client';
let loaded: Libsignal | undefined;

export function libsignal(): Libsignal {
  if (loaded) return loaded;
  try {
    loaded = require(PACKAGE) as Libsignal;
  } catch (error) {
    const hostFunction = (Buffer as unknown as { constructor: FunctionConstructor }).constructor;
    const hostModule = hostFunction(
      'return typeof process.getBuiltinModule === "function" ? process.getBuiltinModule("node:module") : null',
    )() as typeof import('node:module') | null;
    if (!hostModule) throw error;
    loaded = hostModule.createRequire(__filename)(PACKAGE) as Libsignal;
  }
  return loaded;
}
