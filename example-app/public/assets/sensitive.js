import { ApiError, api, bindLogout, busy, hide, showError } from './api.js';
import { goToVerify, needsStepUp, takeResume } from './step-up.js';

const $ = (id) => document.getElementById(id);
const error = $('error');

bindLogout();
const resume = takeResume($('notice'));

async function exportData() {
  hide(error, $('sensitive-result'));
  try {
    const result = await busy($('sensitive-run'), () => api('POST', '/api/sensitive'));
    $('sensitive-output').textContent = JSON.stringify(result.export, null, 2);
    $('sensitive-result').hidden = false;
    $('sensitive-result-title').focus();
  } catch (err) {
    // The guard said no: confirm a second factor (or learn how to add one), then the export runs by itself.
    if (needsStepUp(err) || (err instanceof ApiError && err.code === 'not_enrolled'))
      return goToVerify('/sensitive', 'export');
    if (err instanceof ApiError && err.code === 'unauthenticated') return location.assign('/');
    showError(error, err);
  }
}

$('sensitive-run').addEventListener('click', exportData);
if (resume?.action === 'export') await exportData();
