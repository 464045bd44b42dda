import { api, busy, hide, showError } from './api.js';

const error = document.getElementById('error');

function handle(formId, buttonId, send) {
  const form = document.getElementById(formId);
  const button = document.getElementById(buttonId);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    hide(error);
    const fields = Object.fromEntries(new FormData(form));
    try {
      await busy(button, () => send(fields));
      location.assign('/account');
    } catch (err) {
      showError(error, err);
    }
  });
}

handle('login-form', 'login-submit', ({ email, password }) => api('POST', '/api/login', { email, password }));
handle('signup-form', 'signup-submit', ({ email, password, name }) =>
  api('POST', '/api/signup', { email, password, name }),
);
