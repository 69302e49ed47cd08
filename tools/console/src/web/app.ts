// The console's page: hash-routed views over sync-service's and auth-service's APIs (through the console's own
// origin). The signed-in token lives in sessionStorage only, goes out only as the Authorization header of those
// calls, and is never written into the page. Everything shown is set as text, never as HTML.

import { connectionView } from './connection.js';
import { connectionsView } from './connections.js';
import { ApiError, el, main, notice, POLL_MS, session, state, TOKEN_KEY, token } from './kit.js';
import { runView } from './run.js';
import { signInView } from './sign-in.js';

// ---- routing and session --------------------------------------------------------------------------------

function signOut(message = ''): void {
  sessionStorage.removeItem(TOKEN_KEY);
  if (state.poll !== undefined) window.clearInterval(state.poll);
  (document.getElementById('sign-out') as HTMLElement).hidden = true;
  (document.getElementById('who') as HTMLElement).textContent = '';
  history.replaceState(null, '', '/#/sign-in');
  signInView(message);
}

/** The signed-in principal, read from the token's claims (shown: org and role, never the token). */
function whoAmI(t: string): string {
  try {
    const part = t.split('.')[1] ?? '';
    const claims = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as {
      org_id?: string;
      role?: string;
    };
    return `${claims.org_id ?? '?'}${claims.role === 'operator' ? ' · operator' : ''}`;
  } catch {
    return 'signed in';
  }
}

/**
 * A sign-in link carries the token in the fragment (never sent to a server): take it, then drop it from the
 * address bar and the history. Only into a console nobody is signed in to: any site can link here, and a link
 * that silently replaced a session would have its owner connect their company to the link's org.
 */
function takeTokenFromLink(): void {
  const fromLink = /^#token=([^&]+)/.exec(location.hash);
  if (!fromLink?.[1]) return;
  history.replaceState(null, '', '/#/connections');
  if (token()) {
    notice('Already signed in: sign out first to use a sign-in link.', true);
    return;
  }
  try {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(fromLink[1]));
  } catch {
    notice('That sign-in link is malformed.', true);
  }
}

async function route(): Promise<void> {
  if (state.poll !== undefined) window.clearInterval(state.poll);
  state.poll = undefined;
  takeTokenFromLink();
  const t = token();
  if (!t) return signInView();
  (document.getElementById('who') as HTMLElement).textContent = whoAmI(t);
  (document.getElementById('sign-out') as HTMLElement).hidden = false;
  const hash = location.hash.replace(/^#/, '');
  const parts = hash.split('/').filter(Boolean);
  try {
    if (parts[0] === 'connections' && parts[1]) await connectionView(parts[1]);
    else if (parts[0] === 'runs' && parts[1]) await runView(parts[1]);
    else {
      await connectionsView();
      // A company just connected reaches sync-service through its event a moment later: keep the list fresh.
      state.poll = window.setInterval(() => {
        connectionsView().catch((err: unknown) =>
          notice(err instanceof Error ? err.message : String(err), true),
        );
      }, POLL_MS * 2);
    }
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    const text =
      err instanceof ApiError && err.status === 404
        ? 'Not found.'
        : err instanceof Error
          ? err.message
          : String(err);
    main().replaceChildren(
      el(
        'section',
        { 'data-test': 'not-found' },
        el('h1', {}, text),
        el('a', { href: '#/connections' }, '← Connections'),
      ),
    );
  }
}

async function start(): Promise<void> {
  state.config = await fetch('/config.json')
    .then((r) => r.json() as Promise<typeof state.config>)
    .catch(() => state.config);
  document.getElementById('sign-out')?.addEventListener('click', () => signOut());
  window.addEventListener('hashchange', () => {
    notice('');
    void route();
  });
  // Back from a connect flow: auth-service names its outcome in the query; say it once and drop it.
  const outcome = new URLSearchParams(location.search);
  await route();
  if (outcome.get('status') === 'connected') notice('QuickBooks company connected.');
  else if (outcome.get('status') === 'error')
    notice(`The connection failed: ${outcome.get('error') ?? 'unknown error'}.`, true);
  if (location.search !== '') history.replaceState(null, '', `/${location.hash}`);
}

session.signOut = signOut;
session.route = route;
void start();
