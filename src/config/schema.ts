import { X509Certificate } from 'node:crypto';
import { z } from 'zod';

/**
 * THE configuration schema. Every key is documented here and in examples/fedgate.yaml; users
 * script against these names, so renaming one is a breaking change. Secure defaults throughout.
 */

const duration = z
  .union([z.number().int().positive(), z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as 30s, 15m, 8h or 7d')])
  .transform((v) => (typeof v === 'number' ? v * 1000 : parseDuration(v)))
  .describe('a duration: seconds as a number, or a string such as 30s, 15m, 8h, 7d');

export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'host:port, e.g. 0.0.0.0:8443 or 127.0.0.1:8080');

const serverSchema = z.strictObject({
  /** Public URL people and applications reach fedgate at; every endpoint URL derives from it. */
  baseUrl: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')),
  /** Where to listen (host:port). */
  listen: hostPort.default('127.0.0.1:8080'),
  /** Terminate TLS here (otherwise run behind a TLS-terminating proxy). */
  tls: z.strictObject({ certFile: z.string(), keyFile: z.string() }).optional(),
  /**
   * Which proxies may set X-Forwarded-For/-Proto (the client address decides rate limits and
   * insidecorporatenetwork). false (default) trusts none; a list of the proxies' addresses/CIDRs
   * trusts those (the safe choice); a number trusts that many hops, and is safe only when fedgate
   * cannot be reached except through those proxies. `true` (trust any) is refused: the client
   * could then claim any address, e.g. one inside the corporate network.
   */
  trustProxy: z.union([z.literal(false), z.number().int().min(0), z.array(z.string().min(1))]).default(false),
  /**
   * Worker processes (node:cluster). auto (default): one per core with state.type redis, one with
   * memory state. More than one needs redis: memory state would split between the workers.
   */
  workers: z.union([z.literal('auto'), z.number().int().min(1).max(256)]).default('auto'),
});

/**
 * Where sessions, pending sign-ins, replay caches and lockout counters live. memory: this process
 * only (one node, one worker). redis: shared by every node and worker (Redis, Sentinel or Cluster).
 */
const stateSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('memory') }),
  z.strictObject({
    type: z.literal('redis'),
    /** redis://, rediss:// (TLS), or for Sentinel/Cluster a list of node URLs (write the password as ${VAR}). */
    url: z.union([z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL'), z.array(z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')).min(1)]),
    /** sentinel: the URLs are Sentinels and `sentinelName` the master; cluster: the URLs are Cluster nodes. */
    mode: z.enum(['standalone', 'sentinel', 'cluster']).default('standalone'),
    sentinelName: z.string().min(1).optional(),
    /** PEM file of the CA that signed the Redis servers' certificates (rediss://). */
    ca: z.string().optional(),
    /** Prefix of every key, so several fedgate installations can share one Redis. */
    keyPrefix: z.string().regex(/^[A-Za-z0-9:_-]*$/).default('fedgate:'),
  }).refine((s) => s.mode !== 'sentinel' || s.sentinelName !== undefined, { message: 'sentinel mode needs sentinelName', path: ['sentinelName'] }),
]);

/** Prometheus metrics. */
const metricsSchema = z.strictObject({
  /** Serve /metrics (Prometheus text format). */
  enabled: z.boolean().default(true),
  /** Client addresses (CIDR) allowed to read /metrics; loopback always is. */
  allow: z.array(z.string().regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, 'an address or CIDR block')).default([]),
});

const ldapTlsSchema = z.strictObject({
  /** PEM file(s) of the CA that signed the directory servers' certificates. */
  ca: z.union([z.string(), z.array(z.string())]).optional(),
  /** Upgrade ldap:// connections with StartTLS. */
  startTls: z.boolean().default(false),
  /** Verify server certificates (never turn off outside a lab). */
  rejectUnauthorized: z.boolean().default(true),
});

const groupsSchema = z.strictObject({
  /**
   * How nested group membership is found:
   * - in-chain: AD's LDAP_MATCHING_RULE_IN_CHAIN (1.2.840.113556.1.4.1941), one search (AD default)
   * - memberOf: read the user's memberOf values (OpenLDAP dynlist/memberof overlays)
   * - search: search groups by member, following nesting level by level
   * - none: no groups
   */
  strategy: z.enum(['in-chain', 'memberOf', 'search', 'none']).default('in-chain'),
  /** Where groups live (default: the directory's userBase). */
  base: z.string().optional(),
  /** Attribute holding the group's name. */
  nameAttribute: z.string().default('cn'),
  /** Filter matching group objects (search and in-chain strategies). */
  filter: z.string().default('(|(objectClass=group)(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))'),
  /** Levels of nesting the search strategy follows. */
  maxDepth: z.number().int().min(1).max(32).default(8),
  /**
   * memberOf strategy: how long a group's name and parent groups are remembered (0: not at all).
   * The user's own memberships are read at every sign-in; only group-in-group nesting and group
   * names wait this long to change, which spares a directory round trip per group per sign-in.
   */
  cacheTime: z.union([z.literal(0), duration]).default(60_000),
});

const ldapDirectorySchema = z.strictObject({
  type: z.literal('ldap'),
  /** ldap:// or ldaps:// URLs; several = failover in order. */
  urls: z.array(z.url({ protocol: /^ldaps?$/ })).min(1),
  /** Service account that finds users (search-then-bind). */
  bindDn: z.string().min(1),
  bindPassword: z.string().min(1),
  /** Where users live. */
  userBase: z.string().min(1),
  /** Attributes matched against what the user types (ignored when userFilter is set). */
  loginAttributes: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/)).min(1).default(['userPrincipalName', 'sAMAccountName', 'mail']),
  /** Full filter instead of loginAttributes; `{login}` is replaced by the escaped login. */
  userFilter: z.string().includes('{login}').optional(),
  /** Object filter ANDed with the login match. */
  userObjectFilter: z.string().default('(|(objectClass=user)(objectClass=person))'),
  /** NetBIOS domain accepted in `DOMAIN\user` logins (any when unset). */
  netbiosDomain: z.string().optional(),
  tls: ldapTlsSchema.default({ startTls: false, rejectUnauthorized: true }),
  /** TCP connect timeout. */
  connectTimeout: duration.default(5000),
  /** Timeout of one LDAP operation. */
  operationTimeout: duration.default(10000),
  /** How long a server that failed stays out of rotation. */
  deadServerRetry: duration.default(30000),
  /** Connections per server for password binds (the service account's searches share one more). */
  poolSize: z.number().int().min(1).max(64).default(8),
  /** Attributes that may hold the source anchor, first present wins (entra-federation.md §7). */
  sourceAnchor: z.union([z.string(), z.array(z.string()).min(1)]).default(['mS-DS-ConsistencyGuid', 'objectGUID'])
    .transform((v) => (typeof v === 'string' ? (v === 'mS-DS-ConsistencyGuid' ? [v, 'objectGUID'] : [v]) : v)),
  groups: groupsSchema.default({ strategy: 'in-chain', nameAttribute: 'cn', filter: '(|(objectClass=group)(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))', maxDepth: 8, cacheTime: 60_000 }),
});

const fileDirectorySchema = z.strictObject({
  type: z.literal('file'),
  /** YAML file of users with scrypt-hashed passwords (see examples/demo-users.yaml). */
  path: z.string().min(1),
});

const keyPairSchema = z.strictObject({ keyFile: z.string(), certFile: z.string() });

const signingSchema = z.strictObject({
  /** PEM private key of the token-signing certificate; generated under dataDir when absent. */
  keyFile: z.string().optional(),
  certFile: z.string().optional(),
  /** The next key and certificate, published in metadata ahead of a rollover. */
  next: keyPairSchema.optional(),
  /** Validity of a generated certificate. */
  generatedValidity: duration.default(365 * 86_400_000),
}).refine((s) => (s.keyFile === undefined) === (s.certFile === undefined), {
  message: 'set both keyFile and certFile, or neither (then a key is generated)',
});

const sessionSchema = z.strictObject({
  /** Absolute lifetime of the SSO session (AD FS: 8h). */
  lifetime: duration.default(8 * 3_600_000),
  /** Signed out after this long without use. */
  idleTimeout: duration.default(3_600_000),
  /** Offer "keep me signed in" (a persistent cookie); off by default, as in AD FS. */
  keepMeSignedIn: z.boolean().default(false),
  /** Lifetime when the user ticks "keep me signed in" (AD FS: 24h). */
  keepMeSignedInLifetime: duration.default(86_400_000),
  /** Name of the session cookie. */
  cookieName: z.string().regex(/^[A-Za-z0-9_-]+$/).default('fedgate_session'),
});

const signInSchema = z.strictObject({
  /** Password attempts per client address per minute. */
  maxAttemptsPerIpPerMinute: z.number().int().min(1).default(30),
  /** Failed attempts per username before it is held back (keep below AD's lockout threshold). */
  maxFailuresPerUser: z.number().int().min(1).default(5),
  /** How long failures per user are counted, and how long a user is held back. */
  failureWindow: duration.default(15 * 60_000),
  /**
   * Sign-ins started per client address per minute (each stores a pending sign-in before anyone
   * has authenticated). Generous: a whole office may share one address.
   */
  maxStartsPerIpPerMinute: z.number().int().min(1).default(600),
  /** How long a started sign-in (the login page) stays valid. */
  pendingLifetime: duration.default(15 * 60_000),
  /**
   * Smart lockout (AD FS's extranet smart lockout): failures per user from addresses the user has
   * never signed in from, before those addresses are held back while familiar ones still work.
   * Keep it plus maxFailuresPerUser below AD's lockout threshold: a password spray from strangers
   * then never locks the AD account.
   */
  unfamiliarMaxFailuresPerUser: z.number().int().min(1).default(3),
  /** How long an address a user signed in from stays familiar (at most 20 per user are kept). */
  familiarAddressLifetime: duration.default(14 * 86_400_000),
});

/** WS-Trust active endpoints (entra-federation.md §3) for rich clients, Windows (PRT) and hybrid join. */
const wsTrustSchema = z.strictObject({
  /** /adfs/services/trust/{2005,13}/usernamemixed: user name and password over TLS. */
  usernameMixed: z.boolean().default(true),
  /** /adfs/services/trust/{2005,13}/windowstransport: Kerberos, intranet only (needs authn.kerberos). */
  windowsTransport: z.boolean().default(true),
  /** Allowed difference between a request's wsu:Timestamp and fedgate's clock. */
  clockSkew: duration.default(5 * 60_000),
});

const brandingSchema = z.strictObject({
  organizationName: z.string().min(1).default('fedgate'),
  /** PNG, SVG or JPEG file shown on the sign-in page. */
  logoFile: z.string().optional(),
  /** Where "help" on the sign-in page points (e.g. the service desk). */
  helpUrl: z.url().optional(),
  /** Offered when a password has expired or must be changed (AD FS: /adfs/portal/updatepassword). */
  passwordChangeUrl: z.url().optional(),
});

/** Grant types an OpenID Connect client may use. */
export const OIDC_GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'] as const;

/**
 * An OpenID Connect client. Public clients (tokenEndpointAuthMethod none) always use PKCE;
 * confidential ones too unless requirePkce is false.
 */
const oidcRelyingPartySchema = z.strictObject({
  protocol: z.literal('oidc'),
  /** The client_id. */
  identifier: z.string().min(1).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
  displayName: z.string().optional(),
  /** The client secret (write ${ENV_VAR} or ${file:/path}, never the secret itself); client_secret_basic/post only. */
  clientSecret: z.string().min(16, 'at least 16 characters').optional(),
  /** The redirect URIs (exact match); authorization responses and errors go nowhere else. */
  replyUrls: z.array(z.url({ protocol: /^https?$/ })).default([]),
  /** Where RP-initiated logout may return to (exact match). */
  postLogoutRedirectUris: z.array(z.url({ protocol: /^https?$/ })).default([]),
  /** Told (back-channel logout, a signed logout token) when the person signs out of fedgate through OpenID Connect. */
  backchannelLogoutUri: z.url({ protocol: /^https?$/ }).optional(),
  /** authorization_code, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:device_code. */
  grantTypes: z.array(z.enum(OIDC_GRANT_TYPES)).min(1).default(['authorization_code', 'refresh_token']),
  /** client_secret_basic (default with a secret), client_secret_post, private_key_jwt (with jwks) or none (a public client, default without a secret). */
  tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']).optional(),
  /** private_key_jwt: the client's public keys (a JWK Set). */
  jwks: z.strictObject({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }).optional(),
  /** PKCE for a confidential client too (public clients always use it). */
  requirePkce: z.boolean().default(true),
  /** RS256 (default) or ES256 ID tokens. */
  idTokenSignedResponseAlg: z.enum(['RS256', 'ES256']).default('RS256'),
  /** A first-party application: no consent page. */
  firstParty: z.boolean().default(false),
  /** The scopes the client may ask for (default openid, profile, email, offline_access). */
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).default(['openid', 'profile', 'email', 'offline_access']),
  /** pairwise (a different sub per client) or public (one sub everywhere); default oidc.subjectType. */
  subjectType: z.enum(['pairwise', 'public']).optional(),
}).transform((rp, ctx) => {
  const tokenEndpointAuthMethod = rp.tokenEndpointAuthMethod ?? (rp.clientSecret ? 'client_secret_basic' : rp.jwks ? 'private_key_jwt' : 'none');
  const usesSecret = tokenEndpointAuthMethod === 'client_secret_basic' || tokenEndpointAuthMethod === 'client_secret_post';
  if (usesSecret && !rp.clientSecret) ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: `required with ${tokenEndpointAuthMethod}` });
  if (!usesSecret && rp.clientSecret) ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: `not used with ${tokenEndpointAuthMethod}: remove it` });
  if (tokenEndpointAuthMethod === 'private_key_jwt' && !rp.jwks) ctx.addIssue({ code: 'custom', path: ['jwks'], message: 'required with private_key_jwt' });
  const interactive = rp.grantTypes.includes('authorization_code');
  if (interactive && rp.replyUrls.length === 0) ctx.addIssue({ code: 'custom', path: ['replyUrls'], message: 'required: at least one redirect URI for authorization_code' });
  if (rp.grantTypes.includes('client_credentials') && tokenEndpointAuthMethod === 'none') {
    ctx.addIssue({ code: 'custom', path: ['grantTypes'], message: 'client_credentials needs a client that authenticates (a secret or private_key_jwt)' });
  }
  if (rp.grantTypes.includes('refresh_token') && !interactive && !rp.grantTypes.includes('urn:ietf:params:oauth:grant-type:device_code')) {
    ctx.addIssue({ code: 'custom', path: ['grantTypes'], message: 'refresh_token comes with authorization_code or the device flow' });
  }
  return { ...rp, tokenEndpointAuthMethod };
});

/** Entra ID's fixed values (entra-federation.md §1.1, §11). */
export const ENTRA = {
  realm: 'urn:federation:MicrosoftOnline',
  replyUrl: 'https://login.microsoftonline.com/login.srf',
} as const;

const domainName = z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'a DNS domain such as contoso.com')
  .transform((d) => d.toLowerCase());

/**
 * A federated domain of the Entra tenant. Its users (UPN suffix = the domain or one of its
 * sub-domains) get tokens whose Issuer is `issuerUri` (§1.4: default http://{domain}/adfs/services/trust/,
 * the form AD FS uses with -SupportMultipleDomain).
 */
const federatedDomainSchema = z.union([
  domainName.transform((name) => ({ name, issuerUri: `http://${name}/adfs/services/trust/` })),
  z.strictObject({ name: domainName, issuerUri: z.string().min(1).optional() })
    .transform((d) => ({ name: d.name, issuerUri: d.issuerUri ?? `http://${d.name}/adfs/services/trust/` })),
]);

/**
 * A claim released to an application: a claim name of fedgate's claims pipeline (upn, email,
 * name, givenname, surname, groups, windowsaccountname, primarysid, objectguid, immutableid,
 * authenticationmethod, authnmethodsreferences, authenticationinstant), optionally under another
 * claim type URI.
 */
const claimRuleSchema = z.union([
  z.string().min(1).transform((claim) => ({ claim, as: undefined as string | undefined })),
  z.strictObject({ claim: z.string().min(1), as: z.string().min(1).optional() }),
]);

const wsfedRelyingPartySchema = z.strictObject({
  protocol: z.literal('wsfed'),
  /**
   * `entra`: Microsoft Entra ID (realm urn:federation:MicrosoftOnline, reply URL login.srf, the
   * Entra claim set, issuer per federated domain). `generic`: any WS-Federation application.
   */
  profile: z.enum(['entra', 'generic']).default('generic'),
  /** The realm (wtrealm). Entra: urn:federation:MicrosoftOnline. */
  identifier: z.string().min(1).optional(),
  displayName: z.string().optional(),
  /** Where tokens may be posted; the first is used when the request names none (wreply). */
  replyUrls: z.array(z.url({ protocol: /^https?$/ })).default([]),
  /** Entra: the tenant's federated domains served by fedgate. */
  domains: z.array(federatedDomainSchema).default([]),
  /** Generic: the claims released, in order (default upn, email, name, groups). */
  claims: z.array(claimRuleSchema).prefault(['upn', 'email', 'name', 'groups']),
  /** Generic: the claim whose value is the NameIdentifier (default upn). */
  nameIdentifier: z.string().default('upn'),
  /** Token lifetime (AD FS: 60 minutes). */
  tokenLifetime: duration.default(3_600_000),
  /** rsa-sha256 unless an old application can only check SHA-1. */
  signatureAlgorithm: z.enum(['rsa-sha256', 'rsa-sha1']).default('rsa-sha256'),
  /** Token Issuer for a generic application (default: federation.identifier). */
  issuer: z.string().min(1).optional(),
}).transform((rp, ctx) => {
  const entra = rp.profile === 'entra';
  if (entra && rp.domains.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['domains'], message: 'the entra profile needs the federated domains it serves (e.g. [contoso.com])' });
  }
  if (!entra && !rp.identifier) ctx.addIssue({ code: 'custom', path: ['identifier'], message: 'required: the realm (wtrealm) of the application' });
  if (!entra && rp.replyUrls.length === 0) ctx.addIssue({ code: 'custom', path: ['replyUrls'], message: 'required: at least one reply URL' });
  return {
    ...rp,
    identifier: rp.identifier ?? ENTRA.realm,
    replyUrls: rp.replyUrls.length > 0 ? rp.replyUrls : entra ? [ENTRA.replyUrl] : [],
  };
});

/**
 * An X.509 certificate given as PEM (write ${file:/path/cert.pem}) or bare base64 DER; kept as
 * base64 DER. A value that is not a certificate is a problem at its key path, not a start-up crash.
 */
const certificate = z.string().min(1).transform((value, ctx) => {
  const base64 = value.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  try {
    new X509Certificate(Buffer.from(base64, 'base64'));
    return base64;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not an X.509 certificate (PEM, or base64 DER)' });
    return z.NEVER;
  }
});

/** SAML 2.0 name identifier formats (saml-core §8.3). */
export const SAML_NAMEID_FORMATS = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  transient: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
  emailAddress: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
} as const;
export type SamlNameIdFormat = keyof typeof SAML_NAMEID_FORMATS;

/** A SAML attribute released to a service provider: a fedgate claim under a Name (default its claim type URI). */
const samlAttributeSchema = z.union([
  z.string().min(1).transform((claim) => ({ claim, name: undefined as string | undefined, friendlyName: undefined as string | undefined, nameFormat: 'uri' as const })),
  z.strictObject({
    claim: z.string().min(1),
    /** The attribute Name (default: the claim's URI, e.g. http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn). */
    name: z.string().min(1).optional(),
    friendlyName: z.string().min(1).optional(),
    /** uri (default), basic or unspecified. */
    nameFormat: z.enum(['uri', 'basic', 'unspecified']).default('uri'),
  }),
]);

/**
 * A SAML 2.0 service provider. Its endpoints and certificates come from its metadata (a file, or a
 * URL fetched and refreshed), from the inline keys below, or both (inline keys win). `profile:
 * entra` is Microsoft Entra ID's SAML federation (entra-federation.md §2).
 */
const samlServiceProviderSchema = z.strictObject({
  protocol: z.literal('saml'),
  /** entra: entityID urn:federation:MicrosoftOnline, ACS login.srf, NameID = ImmutableID, IDPEmail = UPN. generic: any SP. */
  profile: z.enum(['entra', 'generic']).default('generic'),
  /** The SP's entityID (from its metadata when omitted there). */
  identifier: z.string().min(1).optional(),
  displayName: z.string().optional(),
  /** The SP's metadata file (e.g. metadata/app.xml). */
  metadataFile: z.string().min(1).optional(),
  /** The SP's metadata URL (https), fetched at start and every metadataRefresh. */
  metadataUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** How often metadataUrl is fetched again. */
  metadataRefresh: duration.default(6 * 3_600_000),
  /** When set, the metadata must carry a valid signature by this certificate (PEM or base64). */
  metadataSigningCertificate: certificate.optional(),
  /** Assertion consumer service URLs (HTTP-POST); the first is the default when a request names none. */
  replyUrls: z.array(z.url({ protocol: /^https?$/ })).default([]),
  /** The SP's single logout URL and the binding it takes. */
  singleLogoutUrl: z.url({ protocol: /^https?$/ }).optional(),
  singleLogoutBinding: z.enum(['redirect', 'post']).default('redirect'),
  /** Certificates whose keys sign the SP's AuthnRequests and LogoutRequests (PEM or base64). */
  signingCertificates: z.array(certificate).default([]),
  /** The SP's encryption certificate: assertions are encrypted to it. */
  encryptionCertificate: certificate.optional(),
  /** aes256-gcm (default), or aes256-cbc / aes128-cbc for SPs that cannot decrypt GCM. */
  encryptionAlgorithm: z.enum(['aes256-gcm', 'aes256-cbc', 'aes128-cbc']).default('aes256-gcm'),
  /** Refuse AuthnRequests and LogoutRequests that are not signed (default: the metadata's AuthnRequestsSigned). */
  requireSignedRequests: z.boolean().optional(),
  /** Sign the Response too (the Assertion is always signed). */
  signResponse: z.boolean().default(false),
  /** rsa-sha256 unless an old SP can only check SHA-1. */
  signatureAlgorithm: z.enum(['rsa-sha256', 'rsa-sha1']).default('rsa-sha256'),
  /** Also accept SHA-1 signatures on the SP's requests (Entra signs with SHA-1, §2.2). */
  acceptSha1Requests: z.boolean().optional(),
  /** The NameID format sent when the request does not ask for one (persistent: stable, different per SP). */
  nameIdFormat: z.enum(['persistent', 'transient', 'emailAddress', 'unspecified']).default('persistent'),
  /** The claim whose value is an emailAddress or unspecified NameID (default email, upn for unspecified). */
  nameIdClaim: z.string().optional(),
  /** The attributes released, in order (default upn, email, name, givenname, surname, groups). */
  attributes: z.array(samlAttributeSchema).prefault(['upn', 'email', 'name', 'givenname', 'surname', 'groups']),
  /** Assertion lifetime (Conditions NotOnOrAfter). */
  tokenLifetime: duration.default(3_600_000),
  /** Allow unsolicited (IdP-initiated) sign-on to this SP. */
  allowIdpInitiated: z.boolean().default(false),
  /** RelayState sent with an IdP-initiated response when the link names none (the SP's start page). */
  defaultRelayState: z.string().max(80).optional(),
  /** Entra: the tenant's federated domains (issuer per domain, as for WS-Fed). */
  domains: z.array(federatedDomainSchema).default([]),
  /** Issuer for a generic SP (default: federation.identifier). */
  issuer: z.string().min(1).optional(),
}).transform((sp, ctx) => {
  const entra = sp.profile === 'entra';
  if (entra && sp.domains.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['domains'], message: 'the entra profile needs the federated domains it serves (e.g. [contoso.com])' });
  }
  if (sp.metadataFile && sp.metadataUrl) ctx.addIssue({ code: 'custom', path: ['metadataUrl'], message: 'give metadataFile or metadataUrl, not both' });
  const fromMetadata = sp.metadataFile !== undefined || sp.metadataUrl !== undefined;
  if (!entra && !fromMetadata && !sp.identifier) ctx.addIssue({ code: 'custom', path: ['identifier'], message: 'required: the SP\'s entityID (or its metadataFile / metadataUrl)' });
  if (!entra && !fromMetadata && sp.replyUrls.length === 0) ctx.addIssue({ code: 'custom', path: ['replyUrls'], message: 'required: at least one assertion consumer service URL (or its metadataFile / metadataUrl)' });
  if (sp.requireSignedRequests === true && !fromMetadata && sp.signingCertificates.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['signingCertificates'], message: 'requireSignedRequests needs the SP\'s signing certificate' });
  }
  return {
    ...sp,
    identifier: sp.identifier ?? (entra ? ENTRA.realm : undefined),
    replyUrls: sp.replyUrls.length > 0 ? sp.replyUrls : entra ? [ENTRA.replyUrl] : [],
    // Entra signs its requests with SHA-1 (§2.2) and sends unsigned sign-out requests (§2.5).
    acceptSha1Requests: sp.acceptSha1Requests ?? entra,
    nameIdFormat: entra ? 'persistent' as const : sp.nameIdFormat,
  };
});

/** SAML 2.0 identity provider settings (service providers are relyingParties with protocol saml). */
const samlSchema = z.strictObject({
  /** AD FS's /adfs/ls/idpinitiatedsignon page listing the SPs that allow IdP-initiated sign-on (off by default, as in AD FS). */
  idpInitiatedSignOnPage: z.boolean().default(false),
  /**
   * Secret of the persistent NameIDs of generic SPs (stable, different per SP); changing it changes
   * them all. Default: generated once under dataDir/saml. Set it (${VAR}) when several nodes serve.
   */
  persistentIdSalt: z.string().min(32, 'at least 32 characters').optional(),
});

const cidr = z.string().regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, 'an address or CIDR block, e.g. 10.0.0.0/8');

/** AD FS's WIASupportedUserAgents defaults, plus the browsers that do Negotiate today. */
export const DEFAULT_NEGOTIATE_USER_AGENTS = [
  'MSAuthHost/1.0/In-Domain', 'MSIE 6.0', 'MSIE 7.0', 'MSIE 8.0', 'MSIE 9.0', 'MSIE 10.0', 'Trident/7.0', 'MSIPC',
  'Windows Rights Management Client', 'MS_WorkFoldersClient', '=~Windows\\s*NT.*Edg/', '=~Windows\\s*NT.*Chrome/', '=~Windows\\s*NT.*Firefox/',
];

const kerberosSchema = z.strictObject({
  /** Offer seamless Windows sign-in (SPNEGO/Negotiate) to eligible browsers. */
  enabled: z.boolean().default(true),
  /** The keytab holding the service principal's keys (from `ktpass` or `samba-tool domain exportkeytab`). */
  keytab: z.string().min(1),
  /**
   * The service principal browsers ask tickets for: HTTP/sts.example.com (the host of
   * server.baseUrl). Empty: accept a ticket for any principal in the keytab.
   */
  servicePrincipal: z.string().regex(/^(HTTP\/[A-Za-z0-9.-]+(@[A-Za-z0-9.-]+)?)?$/, 'HTTP/host or HTTP/host@REALM').optional(),
  /** Realms whose tickets are accepted (upper case, e.g. EXAMPLE.COM). */
  realms: z.array(z.string().min(1)).min(1),
  /**
   * How a principal (alice@EXAMPLE.COM) becomes a directory user: `samAccountName` looks up the
   * name part (AD's client principals are sAMAccountName@REALM); `upn` looks up name@suffix with
   * the suffix from `upnSuffixes` (realm -> UPN suffix, default the realm in lower case).
   */
  principalMapping: z.enum(['samAccountName', 'upn']).default('samAccountName'),
  upnSuffixes: z.record(z.string(), z.string()).default({}),
  /**
   * Negotiate is offered only to clients in federation.internalNetworks (never to external ones)
   * whose User-Agent contains one of these strings (or matches a regular expression written
   * "=~…"), as AD FS's WIASupportedUserAgents.
   */
  userAgents: z.array(z.string().min(1)).default(DEFAULT_NEGOTIATE_USER_AGENTS),
});

const authnSchema = z.strictObject({
  kerberos: kerberosSchema.optional(),
});

/** Claims released per scope: fedgate claim names, optionally under another OpenID Connect claim name. */
export const DEFAULT_OIDC_SCOPE_CLAIMS = {
  profile: ['name', 'givenname', 'surname', { claim: 'upn', as: 'preferred_username' }],
  email: ['email'],
  upn: ['upn'],
  groups: ['groups'],
};

const oidcSchema = z.strictObject({
  /**
   * The issuer: server.baseUrl plus a path (default {baseUrl}/oidc). Discovery is at
   * {issuer}/.well-known/openid-configuration.
   */
  issuer: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')).optional(),
  /**
   * Scope -> claims it releases. Names of fedgate's claims pipeline (as for WS-Fed), under their
   * OpenID Connect names: givenname as given_name, surname as family_name, others as is, or
   * {claim, as} for another name. `openid` always gives sub.
   */
  claims: z.record(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/), z.array(claimRuleSchema)).prefault(DEFAULT_OIDC_SCOPE_CLAIMS),
  /** pairwise (default): each client sees another sub for the same person; public: one sub for all. */
  subjectType: z.enum(['pairwise', 'public']).default('pairwise'),
  /** Keys signing oidc-provider's cookies, first one signs (default: generated once under dataDir/oidc). */
  cookieKeys: z.array(z.string().min(32, 'at least 32 characters')).min(1).optional(),
  /** Secret of the pairwise subjects; changing it changes every pairwise sub (default: generated once under dataDir/oidc). */
  pairwiseSalt: z.string().min(32, 'at least 32 characters').optional(),
  /** Lifetimes of what the provider issues. */
  ttl: z.strictObject({
    accessToken: duration.default(3_600_000),
    idToken: duration.default(3_600_000),
    refreshToken: duration.default(14 * 86_400_000),
    authorizationCode: duration.default(60_000),
    clientCredentials: duration.default(600_000),
    deviceCode: duration.default(600_000),
  }).default({ accessToken: 3_600_000, idToken: 3_600_000, refreshToken: 14 * 86_400_000, authorizationCode: 60_000, clientCredentials: 600_000, deviceCode: 600_000 }),
});

const federationSchema = z.strictObject({
  /**
   * The federation service identifier (AD FS: http://sts.contoso.com/adfs/services/trust): the
   * entityID of the federation metadata and the issuer of tokens to generic applications.
   * Default: http://{host of server.baseUrl}/adfs/services/trust
   */
  identifier: z.string().min(1).optional(),
  /** Name shown in the federation metadata (AD FS: FederationBrandName). */
  displayName: z.string().optional(),
  /**
   * Client addresses inside the corporate network (CIDR): their tokens carry
   * insidecorporatenetwork=true. Client addresses are read with server.trustProxy in mind.
   */
  internalNetworks: z.array(cidr).default([]),
});

export const configSchema = z.strictObject({
  server: serverSchema,
  /** Generated keys and local state (mode 0700). */
  dataDir: z.string().default('./data'),
  /** Shared state: memory (default; one process) or redis (several nodes and workers). */
  state: stateSchema.default({ type: 'memory' }),
  /** Prometheus metrics at /metrics. */
  metrics: metricsSchema.prefault({}),
  directory: z.discriminatedUnion('type', [ldapDirectorySchema, fileDirectorySchema]),
  signing: signingSchema.default({ generatedValidity: 365 * 86_400_000 }),
  session: sessionSchema.default({
    lifetime: 8 * 3_600_000, idleTimeout: 3_600_000, keepMeSignedIn: false,
    keepMeSignedInLifetime: 86_400_000, cookieName: 'fedgate_session',
  }),
  signIn: signInSchema.prefault({}),
  branding: brandingSchema.default({ organizationName: 'fedgate' }),
  federation: federationSchema.default({ internalNetworks: [] }),
  /** Ways to sign in besides the password form. */
  authn: authnSchema.default({}),
  /** The OpenID Connect provider (clients are relyingParties with protocol oidc). */
  oidc: oidcSchema.prefault({}),
  /** The SAML 2.0 identity provider (service providers are relyingParties with protocol saml). */
  saml: samlSchema.prefault({}),
  /** WS-Trust active endpoints and MEX (relying parties: the WS-Fed ones, selected by AppliesTo). */
  wsTrust: wsTrustSchema.prefault({}),
  relyingParties: z.array(z.discriminatedUnion('protocol', [wsfedRelyingPartySchema, oidcRelyingPartySchema, samlServiceProviderSchema])).default([])
    .superRefine((rps, ctx) => {
      // One application per identifier (realm, entity ID, client_id), and each Entra domain and
      // issuer once: Entra requires unique issuers, and a realm must mean one set of rules.
      const seen = new Map<string, number>();
      rps.forEach((rp, i) => {
        if (rp.identifier === undefined) return; // a SAML SP named by its metadata: checked when that is read
        const key = `${rp.protocol} ${rp.identifier}`;
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i, 'identifier'], message: `${rp.identifier} is already relying party ${seen.get(key)}: list its domains or settings in one entry` });
        else seen.set(key, i);
      });
      const domains = new Set<string>();
      const issuers = new Set<string>();
      rps.forEach((rp, i) => {
        // A domain federates over WS-Fed or SAML, never both: one issuer, one set of rules.
        if (rp.protocol === 'oidc') return;
        rp.domains.forEach((d, j) => {
          if (domains.has(d.name)) ctx.addIssue({ code: 'custom', path: [i, 'domains', j], message: `domain ${d.name} is listed twice` });
          if (issuers.has(d.issuerUri)) ctx.addIssue({ code: 'custom', path: [i, 'domains', j], message: `issuer ${d.issuerUri} is used twice: Entra needs a unique issuer per domain` });
          domains.add(d.name);
          issuers.add(d.issuerUri);
        });
      });
    }),
  logging: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
    .default({ level: 'info' }),
  /** Set only by the embedded demo: shows the demo banner and the demo credentials. */
  demo: z.boolean().default(false),
}).superRefine((config, ctx) => {
  if (config.state.type === 'memory' && typeof config.server.workers === 'number' && config.server.workers > 1) {
    ctx.addIssue({ code: 'custom', path: ['server', 'workers'], message: 'several workers need state.type redis: with memory state each worker would have its own sessions' });
  }
  // The provider is mounted in fedgate's own app: its issuer is a path under the public URL.
  const issuer = config.oidc.issuer;
  if (issuer !== undefined && (new URL(issuer).origin !== new URL(config.server.baseUrl).origin || !/^\/[^?#]+$/.test(new URL(issuer).pathname) || new URL(issuer).search)) {
    ctx.addIssue({ code: 'custom', path: ['oidc', 'issuer'], message: `a path under server.baseUrl, e.g. ${config.server.baseUrl}/oidc` });
  }
  // oidc-provider accepts pairwise subjects for the device flow only with a jwks_uri, which fedgate does not take.
  config.relyingParties.forEach((rp, i) => {
    if (rp.protocol === 'oidc' && rp.grantTypes.includes('urn:ietf:params:oauth:grant-type:device_code') && (rp.subjectType ?? config.oidc.subjectType) === 'pairwise') {
      ctx.addIssue({ code: 'custom', path: ['relyingParties', i, 'subjectType'], message: 'a device-flow client needs subjectType public' });
    }
  });
});

export type Config = z.output<typeof configSchema>;

/** oidc.issuer, or {baseUrl}/oidc. */
export function oidcIssuer(config: Config): string {
  return config.oidc.issuer ?? `${config.server.baseUrl}/oidc`;
}

/** federation.identifier, or AD FS's default form for fedgate's host. */
export function federationIdentifier(config: Config): string {
  return config.federation.identifier ?? `http://${new URL(config.server.baseUrl).host}/adfs/services/trust`;
}
export type LdapDirectoryConfig = z.output<typeof ldapDirectorySchema>;
export type FileDirectoryConfig = z.output<typeof fileDirectorySchema>;
export type DirectoryConfig = Config['directory'];
export type RelyingPartyConfig = Config['relyingParties'][number];
export type WsfedRelyingPartyConfig = z.output<typeof wsfedRelyingPartySchema>;
export type OidcRelyingPartyConfig = z.output<typeof oidcRelyingPartySchema>;
export type OidcConfig = z.output<typeof oidcSchema>;
export type SamlServiceProviderConfig = z.output<typeof samlServiceProviderSchema>;
export type FederatedDomain = WsfedRelyingPartyConfig['domains'][number];
export type KerberosConfig = z.output<typeof kerberosSchema>;
export type WsTrustConfig = z.output<typeof wsTrustSchema>;
export type StateConfig = z.output<typeof stateSchema>;
export type MetricsConfig = z.output<typeof metricsSchema>;
