import {
  ApiError,
  api,
  bindLogout,
  busy,
  goToVerify,
  hide,
  needsStepUp,
  showError,
  showVerifiedNotice,
} from './api.js';

const $ = (id) => document.getElementById(id);
const error = $('error');

bindLogout();
showVerifiedNotice($('notice'));

$('sensitive-run').addEventListener('click', async (event) => {
  hide(error, $('sensitive-result'));
  try {
    const result = await busy(event.currentTarget, () => api('POST', '/api/sensitive'));
    $('sensitive-output').textContent = JSON.stringify(result.export, null, 2);
    $('sensitive-result').hidden = false;
  } catch (err) {
    // The guard said no: confirm a second factor (or learn how to add one), then come back here.
    if (needsStepUp(err) || (err instanceof ApiError && err.code === 'not_enrolled'))
      return goToVerify('/sensitive');
    if (err instanceof ApiError && err.code === 'unauthenticated') return location.assign('/');
    showError(error, err);
  }
});
