import type { Entry } from 'ldapts';
import type { DirectoryUser } from '../../core/principal.js';
import { guidToString, immutableIdFromBytes } from '../guid.js';
import { sidToString } from './sid.js';

/**
 * Reading user entries: which attributes to ask for, which are binary, and how an entry becomes
 * a DirectoryUser.
 */

/** Attributes whose values are raw octets: never decode them as UTF-8. */
const KNOWN_BINARY = ['objectGUID', 'objectSid', 'mS-DS-ConsistencyGuid', 'msDS-ConsistencyGuid'];

// objectClass and primaryGroupID tell a computer account (hybrid join, entra-federation.md §6.2).
const USER_TEXT_ATTRIBUTES = ['userPrincipalName', 'sAMAccountName', 'uid', 'mail', 'displayName', 'givenName', 'sn', 'cn', 'objectClass', 'primaryGroupID'];

export interface AttributeRequest {
  readonly attributes: string[];
  /** ldapts matches these case-sensitively against the names the server returns. */
  readonly explicitBufferAttributes: string[];
}

export function isBinaryAttribute(name: string): boolean {
  return KNOWN_BINARY.some((b) => b.toLowerCase() === name.toLowerCase());
}

/** Each name as given and in lower case: servers answer with the schema's or the request's spelling. */
function bufferNames(names: readonly string[]): string[] {
  return [...new Set(names.flatMap((n) => [n, n.toLowerCase()]))];
}

export function userAttributeRequest(sourceAnchor: readonly string[], extra: readonly string[] = []): AttributeRequest {
  const attributes = [...new Set([...USER_TEXT_ATTRIBUTES, ...KNOWN_BINARY, ...sourceAnchor, ...extra])];
  return { attributes, explicitBufferAttributes: bufferNames([...KNOWN_BINARY, ...sourceAnchor.filter(isBinaryAttribute)]) };
}

type EntryValue = Entry[string];

/** Case-insensitive access to an ldapts entry (attribute names are case-insensitive in LDAP). */
export class EntryReader {
  private readonly byName = new Map<string, EntryValue>();

  constructor(readonly entry: Entry) {
    for (const [name, value] of Object.entries(entry)) {
      if (name !== 'dn') this.byName.set(name.toLowerCase(), value);
    }
  }

  get dn(): string {
    return this.entry.dn;
  }

  values(name: string): Array<string | Buffer> {
    const v = this.byName.get(name.toLowerCase());
    if (v === undefined) return [];
    return Array.isArray(v) ? v : [v];
  }

  strings(name: string): string[] {
    return this.values(name).map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v));
  }

  string(name: string): string | undefined {
    return this.strings(name)[0];
  }

  buffer(name: string): Buffer | undefined {
    const v = this.values(name)[0];
    if (v === undefined) return undefined;
    // A string here means ldapts decoded octets as UTF-8 (the server spelled the name unlike the
    // request): the bytes are lost, and no ImmutableID is better than a wrong one.
    return Buffer.isBuffer(v) ? v : undefined;
  }
}

/** entra-federation.md §7: base64 of the raw bytes of the first present anchor; text anchors as they are. */
export function immutableIdOf(reader: EntryReader, sourceAnchor: readonly string[]): string | undefined {
  for (const name of sourceAnchor) {
    if (isBinaryAttribute(name)) {
      // Present but not readable as bytes: stop here. Falling through to objectGUID would give a
      // plausible but wrong ImmutableID for a migrated user, and Entra would sign in someone else.
      if (reader.values(name).length > 0 && !reader.buffer(name)) return undefined;
      const raw = reader.buffer(name);
      if (raw && raw.length > 0) return immutableIdFromBytes(raw);
    } else {
      const text = reader.string(name);
      if (text) return text;
    }
  }
  return undefined;
}

/** A malformed objectSid is left out (as a malformed objectGUID is), not a failed sign-in. */
function readableSid(raw: Buffer): string | undefined {
  try {
    return sidToString(raw);
  } catch {
    return undefined;
  }
}

/** AD computers are objectClass computer (a subclass of user); primaryGroupID is a decimal RID. */
function accountKind(reader: EntryReader): Pick<DirectoryUser, 'accountType' | 'primaryGroupId'> {
  const computer = reader.strings('objectClass').some((c) => c.toLowerCase() === 'computer');
  const group = reader.string('primaryGroupID');
  const primaryGroupId = group !== undefined && /^\d{1,10}$/.test(group) ? Number(group) : undefined;
  return { accountType: computer ? 'computer' : 'user', ...(primaryGroupId === undefined ? {} : { primaryGroupId }) };
}

export function toDirectoryUser(
  reader: EntryReader,
  sourceAnchor: readonly string[],
  groups: { readonly names: readonly string[]; readonly dns: readonly string[] },
): DirectoryUser {
  const upn = reader.string('userPrincipalName');
  const sam = reader.string('sAMAccountName');
  const guid = reader.buffer('objectGUID');
  const sid = reader.buffer('objectSid');
  return {
    dn: reader.dn,
    username: sam ?? reader.string('uid') ?? upn?.split('@')[0] ?? reader.string('cn') ?? reader.dn,
    userPrincipalName: upn,
    sAMAccountName: sam,
    mail: reader.string('mail'),
    displayName: reader.string('displayName'),
    givenName: reader.string('givenName'),
    sn: reader.string('sn'),
    objectGuid: guid?.length === 16 ? guidToString(guid) : undefined,
    objectSid: sid ? readableSid(sid) : undefined,
    immutableId: immutableIdOf(reader, sourceAnchor),
    ...accountKind(reader),
    groups: [...groups.names],
    groupDns: [...groups.dns],
  };
}
