/** The relay's rate limits raised out of reach (one definition, the load tester's spawned homeservers use it too). */
export { UNLIMITED_RELAY_RATES } from '../../libs/loadtest/src/targets/load-limits.env';
