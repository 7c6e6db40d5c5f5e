// URLs inside a value: scheme, optional user:password, and host, without the path or query
// (which may carry a key and is never echoed).

export interface FoundUrl {
  scheme: string;
  user?: string;
  password?: string;
  /** Lowercase, without brackets, port or trailing dot. */
  host: string;
}

const MAX_SCHEME = 16;

const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
// RFC 3986 scheme characters: letters, digits, "+", "-", "."
const isSchemeChar = (c: number) => isLetter(c) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46;
const AUTHORITY = /[^\s/?#'"<>\\`]{1,512}/y;

// A WHATWG URL parser (Node's URL and fetch, so the OpenAI Node SDK) reads http:/host, http:\\host and
// http:///host as http://host: for its special schemes any run of slashes and backslashes is "//".
const LENIENT_SLASHES = /(?<![A-Za-z0-9+.-])(https?|wss?):(?:\/(?!\/)|\\|\/\/[/\\])[/\\]*/gi;

/** What every URL holds, spelt strictly or as a WHATWG parser takes it (for a keyword screen too). */
export const URL_MARKERS = [":/", ":\\"] as const;
const [SLASH, BACKSLASH] = URL_MARKERS;

/** Whether a value may hold a URL: a test for every value. */
export function mayHoldUrl(value: string): boolean {
  return value.includes(SLASH) || value.includes(BACKSLASH);
}

/** Finds each "://" and reads the scheme before it and the authority after it: linear, no backtracking. */
export function urlsIn(raw: string): FoundUrl[] {
  const text = raw.includes(":\\") || /:\/(?!\/)|:\/\/[/\\]/.test(raw) ? raw.replace(LENIENT_SLASHES, "$1://") : raw;
  const urls: FoundUrl[] = [];
  for (let at = text.indexOf("://"); at >= 0; at = text.indexOf("://", at + 3)) {
    let start = at;
    while (start > 0 && at - start <= MAX_SCHEME && isSchemeChar(text.charCodeAt(start - 1))) start--;
    if (start === at || at - start > MAX_SCHEME || !isLetter(text.charCodeAt(start))) continue;
    AUTHORITY.lastIndex = at + 3;
    const authority = AUTHORITY.exec(text)?.[0];
    if (authority) urls.push(parseAuthority(text.slice(start, at).toLowerCase(), authority));
  }
  return urls;
}

function parseAuthority(scheme: string, authority: string): FoundUrl {
  const at = authority.lastIndexOf("@");
  const userinfo = at >= 0 ? authority.slice(0, at) : undefined;
  const hostPort = authority.slice(at + 1);
  const port = hostPort.indexOf(":");
  const raw = hostPort.startsWith("[")
    ? hostPort.slice(1, hostPort.indexOf("]"))
    : port < 0
      ? hostPort
      : hostPort.slice(0, port);
  const host = decodedHost(raw).toLowerCase();
  const colon = userinfo?.indexOf(":") ?? -1;
  return {
    scheme,
    user: userinfo === undefined ? undefined : colon >= 0 ? userinfo.slice(0, colon) : userinfo,
    password: userinfo !== undefined && colon >= 0 ? userinfo.slice(colon + 1) : undefined,
    // Without the trailing dot of a fully qualified name.
    host: host.endsWith(".") ? host.slice(0, -1) : host,
  };
}

/** api%2Eexample%2Ecom is api.example.com to a URL parser; %HOST% and other templates stay as written. */
function decodedHost(raw: string): string {
  if (!/%[0-9A-Fa-f]{2}/.test(raw)) return raw;
  try {
    const host = decodeURIComponent(raw);
    return /^[\w.:-]+$/.test(host) ? host : raw;
  } catch {
    return raw;
  }
}

/** Hosts written as templates or wildcards are not hosts yet. */
export function isTemplatedHost(host: string): boolean {
  return host === "" || /[${}()<>*%]/.test(host);
}
