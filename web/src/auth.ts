// The signed-in credential. The server is stateless: every API request carries the credential as an
// Authorization header. It is kept in sessionStorage (this tab only, gone when the tab closes; never in a
// URL or a cookie): a token as "Bearer", a user name with a password or token as HTTP Basic.

const key = 'lineage.credential';

export interface Credential {
  /** Who signed in, as typed (a token alone shows as "token"). */
  user: string;
  header: string;
}

export function credential(): Credential | null {
  try {
    const c = JSON.parse(sessionStorage.getItem(key) ?? 'null');
    return c && typeof c.header === 'string' && typeof c.user === 'string' ? c : null;
  } catch {
    return null;
  }
}

/** Basic needs base64 of UTF-8 bytes (btoa alone fails on non-Latin-1 names). */
function base64(text: string): string {
  let bin = '';
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin);
}

export function makeCredential(user: string, secret: string): Credential {
  return user ? { user, header: `Basic ${base64(`${user}:${secret}`)}` } : { user: 'token', header: `Bearer ${secret}` };
}

export function remember(c: Credential): void {
  sessionStorage.setItem(key, JSON.stringify(c));
}

export function forget(): void {
  sessionStorage.removeItem(key);
}
