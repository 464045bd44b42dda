// In development the app keeps the messages it would send in a dev outbox: every page that sends one
// shows a link to it, so nobody waits for an email that will never arrive.
import { api } from './api.js';

let features;
/** What this setup offers (`/api/features`), asked once per page. */
export const getFeatures = () => {
  features ??= api('GET', '/api/features');
  return features;
};

/** Unhides the elements with these ids when the dev outbox is on. */
export async function showDevOutbox(ids) {
  const { outbox } = await getFeatures().catch(() => ({}));
  for (const id of ids) {
    const el = document.getElementById(id);
    if (el) el.hidden = !outbox;
  }
}
