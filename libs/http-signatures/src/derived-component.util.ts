/**
 * Values of the RFC 9421 §2.2 derived components for a request, taken from the method and the
 * absolute target URI. The URI is split with the RFC 3986 Appendix B pattern rather than WHATWG
 * `URL`, so that the path and query stay exactly as sent, with no dot-segment removal and no
 * re-encoding. Throws on input that cannot be resolved.
 */

/** RFC 3986 Appendix B. Groups: scheme, authority, path, query, fragment. */
const URI_PATTERN = /^(?:([^:/?#]+):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/;
const SCHEME_PATTERN = /^[A-Za-z][A-Za-z0-9+.-]*$/;
/** RFC 9110 §5.6.2 token. */
const METHOD_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Visible ASCII, with no spaces or controls. */
const URI_CHARS = /^[\x21-\x7e]+$/;
const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: '80', https: '443' };

interface SplitTargetUri {
  scheme: string;
  authority: string;
  path: string;
  query: string | undefined;
}

function splitTargetUri(targetUri: string): SplitTargetUri {
  if (typeof targetUri !== 'string' || !URI_CHARS.test(targetUri)) {
    throw new Error('target URI must be non-empty visible ASCII');
  }
  const match = URI_PATTERN.exec(targetUri);
  if (!match) throw new Error('target URI does not parse');
  const [, scheme, authority, path, query, fragment] = match;
  if (scheme === undefined || !SCHEME_PATTERN.test(scheme)) throw new Error('target URI must be absolute');
  if (authority === undefined || authority === '') throw new Error('target URI must have an authority');
  if (fragment !== undefined) throw new Error('target URI must not have a fragment');
  return { scheme: scheme.toLowerCase(), authority, path, query };
}

/** RFC 9421 §2.2.3: host[:port] in lower case, without userinfo or a default port. */
function normaliseAuthority(scheme: string, authority: string): string {
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1).toLowerCase();
  let host: string;
  let port: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) throw new Error('target URI has an unterminated IP literal');
    host = hostPort.slice(0, close + 1);
    const rest = hostPort.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw new Error('target URI has an invalid authority');
    port = rest === '' ? undefined : rest.slice(1);
  } else {
    const parts = hostPort.split(':');
    if (parts.length > 2) throw new Error('target URI has an invalid authority');
    [host, port] = parts;
  }
  if (host === '') throw new Error('target URI has an empty host');
  if (port !== undefined && !/^[0-9]*$/.test(port)) throw new Error('target URI has an invalid port');
  if (port === undefined || port === '' || port === DEFAULT_PORTS[scheme]) return host;
  return `${host}:${port}`;
}

/** The value of derived component `name` (for example `@path`) for the request. */
export function derivedComponentValue(name: string, method: string, targetUri: string): string {
  if (name === '@method') {
    if (typeof method !== 'string' || !METHOD_PATTERN.test(method)) throw new Error('invalid HTTP method');
    // RFC 9421 §2.2.1 does not change the case. Sealpost upper-cases so that a caller's 'post'
    // matches the 'POST' that HTTP clients put on the wire.
    return method.toUpperCase();
  }
  const uri = splitTargetUri(targetUri);
  const path = uri.path === '' ? '/' : uri.path;
  switch (name) {
    case '@target-uri':
      return targetUri;
    case '@authority':
      return normaliseAuthority(uri.scheme, uri.authority);
    case '@scheme':
      return uri.scheme;
    case '@path':
      return path;
    case '@query':
      return `?${uri.query ?? ''}`;
    case '@request-target':
      return uri.query === undefined ? path : `${path}?${uri.query}`;
    default:
      throw new Error(`unsupported derived component ${name}`);
  }
}
