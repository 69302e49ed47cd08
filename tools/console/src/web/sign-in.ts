// The sign-in page: a token pasted here is kept for this browser tab only.
import { el, main, notice, session, TOKEN_KEY } from './kit.js';

export function signInView(message = ''): void {
  const input = el('input', { type: 'password', id: 'token', autocomplete: 'off', 'aria-label': 'Token' });
  const form = el(
    'form',
    { class: 'signin' },
    el('h1', {}, 'Sign in'),
    el('p', {}, 'Paste your organisation or operator token. It is kept for this browser tab only.'),
    input,
    el('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (input.value.trim() === '') return;
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    input.value = '';
    location.hash = '#/connections';
    void session.route();
  });
  main().replaceChildren(el('section', {}, form));
  notice(message, message !== '');
}
