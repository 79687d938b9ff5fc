/**
 * Test code loads @signalapp/libsignal-client through the same loader as the services
 * (see ../libsignal.loader.ts for why a loader is needed under Jest).
 */
export { libsignal as loadLibsignal } from '../libsignal.loader';
