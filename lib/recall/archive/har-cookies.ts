/**
 * The `cookies` lists of a HAR entry (HAR 1.2 §cookies), filled for viewers from the raw headers: `Cookie` lines of
 * the request, `Set-Cookie` lines of the response. Written only; playback uses the raw headers.
 */
import type { RawHeaders } from './archive-types.js';

export interface HarCookie {
  name: string;
  value: string;
  path?: string;
  domain?: string;
  /** ISO 8601, when the cookie has an `Expires` date that parses. */
  expires?: string;
  httpOnly?: boolean;
  secure?: boolean;
}

/** The cookies a request sent: every `name=value` pair of every `Cookie` line. */
export function requestCookies(headers: RawHeaders): HarCookie[] {
  const cookies: HarCookie[] = [];
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== 'cookie') continue;
    for (const pair of value.split(';')) {
      const at = pair.indexOf('=');
      if (at < 0) continue;
      cookies.push({ name: pair.slice(0, at).trim(), value: pair.slice(at + 1).trim() });
    }
  }
  return cookies;
}

/** The cookies a response set: one per `Set-Cookie` line, with its attributes. */
export function responseCookies(headers: RawHeaders): HarCookie[] {
  const cookies: HarCookie[] = [];
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== 'set-cookie') continue;
    const [pair = '', ...attributes] = value.split(';');
    const at = pair.indexOf('=');
    if (at < 0) continue;
    const cookie: HarCookie = { name: pair.slice(0, at).trim(), value: pair.slice(at + 1).trim() };
    for (const attribute of attributes) {
      const eq = attribute.indexOf('=');
      const key = (eq < 0 ? attribute : attribute.slice(0, eq)).trim().toLowerCase();
      const val = eq < 0 ? '' : attribute.slice(eq + 1).trim();
      if (key === 'path') cookie.path = val;
      else if (key === 'domain') cookie.domain = val;
      else if (key === 'httponly') cookie.httpOnly = true;
      else if (key === 'secure') cookie.secure = true;
      else if (key === 'expires' && !Number.isNaN(Date.parse(val)))
        cookie.expires = new Date(val).toISOString();
    }
    cookies.push(cookie);
  }
  return cookies;
}
