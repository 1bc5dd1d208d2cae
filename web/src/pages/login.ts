// The login page, shown when the API answers 401 (authentication is on and this tab has no valid credential).
// The credential is checked with one read before it is kept; a wrong one is said plainly and nothing is kept.

import { ApiError, api } from '../api';
import { makeCredential, remember } from '../auth';
import { h } from '../dom';

export function loginView(onSignedIn: () => void, reason?: string): HTMLElement {
  const user = h('input', { name: 'user', autocomplete: 'username', 'aria-label': 'User name', 'data-testid': 'login-user' });
  const secret = h('input', { name: 'secret', type: 'password', autocomplete: 'current-password', 'aria-label': 'Password or token', 'data-testid': 'login-secret' });
  const message = h('p', { class: 'error', role: 'alert', 'data-testid': 'login-error' });
  const submit = h('button', { type: 'submit', 'data-testid': 'login-submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'login', 'data-testid': 'login' },
    h('h1', null, 'Sign in to Lineage'),
    h('p', { class: 'muted' }, reason ?? 'This server requires authentication.'),
    h('label', null, 'User name', user),
    h('label', null, 'Password or API token', secret),
    h('p', { class: 'muted small' }, 'With a token you may leave the user name empty. The credential is kept in this browser tab only, until you sign out or close it.'),
    submit,
    message,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.textContent = '';
    if (!secret.value) {
      message.textContent = 'Enter a password or a token.';
      return;
    }
    const c = makeCredential(user.value.trim(), secret.value);
    submit.disabled = true;
    try {
      if (!(await api.accepts(c.header))) {
        message.textContent = 'Wrong user name, password or token.';
        return;
      }
      remember(c);
      onSignedIn();
    } catch (err) {
      message.textContent = err instanceof ApiError ? err.message : String(err);
    } finally {
      submit.disabled = false;
    }
  });
  queueMicrotask(() => (user.value ? secret : user).focus());
  return form;
}
