import { stopAll } from './global-setup.mjs';

/** Stops every service the global setup started and removes their temporary data. */
export default async function globalTeardown() {
  await stopAll();
}
