// URLs inside a value: scheme, optional user:password, and host, without the path or query
// (which may carry a key and is never echoed).

export interface FoundUrl {
  scheme: string;
  user?: string;
  password?: string;
  /** Lowercase, without brackets, port or trailing dot. */
  host: string;
}

const URL_START = /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,15}):\/\/([^\s/?#'"<>\\`]{1,512})/g;

export function urlsIn(text: string): FoundUrl[] {
  if (!text.includes("://")) return [];
  const urls: FoundUrl[] = [];
  for (const m of text.matchAll(URL_START)) {
    const authority = m[2] ?? "";
    const at = authority.lastIndexOf("@");
    const userinfo = at >= 0 ? authority.slice(0, at) : undefined;
    const hostPort = authority.slice(at + 1);
    const host = (hostPort.startsWith("[") ? hostPort.slice(1, hostPort.indexOf("]")) : hostPort.split(":")[0]) ?? "";
    const colon = userinfo?.indexOf(":") ?? -1;
    urls.push({
      scheme: (m[1] ?? "").toLowerCase(),
      user: userinfo === undefined ? undefined : colon >= 0 ? userinfo.slice(0, colon) : userinfo,
      password: userinfo !== undefined && colon >= 0 ? userinfo.slice(colon + 1) : undefined,
      host: host.toLowerCase().replace(/\.$/, ""),
    });
  }
  return urls;
}

/** Hosts written as templates or wildcards are not hosts yet. */
export function isTemplatedHost(host: string): boolean {
  return host === "" || /[${}()<>*%]/.test(host);
}
