import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import { GitwardError } from "../core/errors.ts";

/** A repository on this machine, used in place. */
export interface LocalLocation {
  readonly kind: "local";
  /** Absolute path as given (a working directory or a bare repository). */
  readonly path: string;
  readonly displayName: string;
}

/** A repository reached through a URL, mirrored into a cache. */
export interface RemoteLocation {
  readonly kind: "remote";
  /** The URL as given, credentials included: only ever passed to git. */
  readonly url: string;
  /** The URL with credentials masked, for messages and logs. */
  readonly displayName: string;
  /** The git transport: file, http, https, ssh or git. */
  readonly protocol: string;
  /** 16 hex digits of the SHA-256 of the URL without credentials: the mirror's directory name. */
  readonly cacheKey: string;
  /** Replaces any credential of the URL in a text (git's stderr) with `***`. */
  readonly mask: (text: string) => string;
}

/** Where a source is: a local path or a remote URL. */
export type ParsedLocation = LocalLocation | RemoteLocation;

const schemeUrl = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s;
// `user@host:path` or `host:path`; a colon after a slash means a local path, and `host::x`
// is git's `<transport>::<address>` form, which can run commands, so it is not accepted.
const scpLike = /^(?:[^@/:]+@)?(?:\[[^\]/]+\]|[^/:@[\]]+):(?!:)/;

const transports: Readonly<Record<string, string>> = {
  file: "file",
  http: "http",
  https: "https",
  ssh: "ssh",
  git: "git",
  "git+ssh": "ssh",
  "ssh+git": "ssh",
};

/**
 * Parses a source location: a URL (file, http, https, ssh, git), an scp-like
 * `user@host:path`, or else a local path.
 */
export function parseLocation(location: string): ParsedLocation {
  if (location.trim() === "") {
    throw new GitwardError("git", "the source location is empty", {
      hint: "pass a repository path or URL",
    });
  }
  const scheme = schemeUrl.exec(location);
  if (scheme !== null) return parseSchemeUrl(location, (scheme[1] ?? "").toLowerCase(), scheme[2] ?? "");
  if (scpLike.test(location) && !existsSync(location)) return remote(location, location, "ssh", location, []);
  const path = resolvePath(location);
  return { kind: "local", path, displayName: path };
}

function parseSchemeUrl(url: string, scheme: string, rest: string): RemoteLocation {
  const protocol = transports[scheme];
  if (protocol === undefined) {
    throw new GitwardError("git", `unsupported URL scheme "${scheme}" in ${maskUserinfo(url)}`, {
      hint: "use a local path or a file://, http(s)://, ssh://, git:// or user@host:path URL",
    });
  }
  const slash = rest.indexOf("/");
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const tail = slash === -1 ? "" : rest.slice(slash);
  const at = authority.lastIndexOf("@");
  if (at === -1) return remote(url, url, protocol, url, []);
  const userinfo = authority.slice(0, at);
  const host = authority.slice(at + 1);
  const stripped = `${scheme}://${host}${tail}`;
  // A token is often passed as the user name alone (https://TOKEN@host), so for HTTP the
  // whole userinfo is a secret; for ssh:// the user (`git@`) is not, unless a password follows.
  const secret = userinfo.includes(":") || protocol === "http" || protocol === "https";
  if (!secret) return remote(url, url, protocol, stripped, []);
  const password = userinfo.includes(":") ? userinfo.slice(userinfo.indexOf(":") + 1) : userinfo;
  return remote(url, `${scheme}://***@${host}${tail}`, protocol, stripped, [userinfo, password]);
}

function remote(url: string, displayName: string, protocol: string, keyed: string, secrets: string[]): RemoteLocation {
  const cacheKey = createHash("sha256").update(keyed).digest("hex").slice(0, 16);
  // Longest first, so a password is never left half-replaced by a shorter secret.
  const hidden = secrets
    .flatMap((s) => [s, safeDecode(s)])
    .filter((s) => s.length >= 3)
    .sort((a, b) => b.length - a.length);
  const mask = (text: string): string => {
    let out = text.split(url).join(displayName);
    for (const s of hidden) out = out.split(s).join("***");
    return out;
  };
  return { kind: "remote", url, displayName, protocol, cacheKey, mask };
}

/** Masks the user information of any `scheme://user@host` in a text, for messages about URLs not parsed yet. */
export function maskUserinfo(text: string): string {
  return text.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@\s]+@/g, "$1***@");
}

/**
 * The masker for messages about a location: the credentials of its URL, and the user
 * information of any other URL git may print (a redirect, a submodule).
 */
export function locationMask(location: ParsedLocation): (text: string) => string {
  return location.kind === "remote" ? (text) => maskUserinfo(location.mask(text)) : maskUserinfo;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
