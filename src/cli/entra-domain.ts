import { existsSync, readFileSync } from 'node:fs';
import type { Config, FederatedDomain } from '../config/schema.js';
import { daysUntilExpiry, generatedKeyPaths, loadKeyStore, type KeyStore } from '../keys/key-store.js';
import { createLogger } from '../observability/logger.js';
import { MEX_PATH, wsTrustPath, wsTrustReferences } from '../protocols/wstrust/mex-endpoints.js';
import {
  CliError, EXPIRY_WARNING_DAYS, certificateDer, daysLeft, describeCertificate, giveToFolderOwner, loadCommandConfig,
  parseCertificate, parseCommandArgs, previousKeyPaths, runCommand,
} from './support.js';

/**
 * `fedgate entra-domain`: the settings an Entra ID domain needs to federate with fedgate
 * (Microsoft Graph internalDomainFederation, entra-federation.md §5), and `--check` of what Entra
 * holds against them. Every URI derives from server.baseUrl.
 */
export const ENTRA_DOMAIN_USAGE = `usage: fedgate entra-domain --config FILE --domain DOMAIN [--protocol wsFed|saml] [--json]
       fedgate entra-domain --config FILE --domain DOMAIN [--protocol wsFed|saml] --check EXPORTED.json

  prints the Microsoft Graph body and PowerShell commands that federate DOMAIN with fedgate;
  --protocol    must be the protocol of the relying party holding DOMAIN (the default)
  --json        only the Graph body (for scripts)
  --check FILE  compare Entra's configuration (JSON of GET .../domains/DOMAIN/federationConfiguration
                or Get-MgDomainFederationConfiguration | ConvertTo-Json) with fedgate's:
                exit 0 when it matches (warnings are printed), 1 on errors

  activeSignInUri and metadataExchangeUri (WS-Trust) are included when fedgate serves them: usernamemixed
  (wsTrust.usernameMixed) gives both, windowstransport alone (wsTrust.windowsTransport with authn.kerberos)
  gives metadataExchangeUri. (--with-ws-trust, from earlier versions, is accepted and changes nothing.)
`;

export type EntraProtocol = 'wsFed' | 'saml';

/** The Graph resource, with its properties in the order Graph documents them. */
export interface InternalDomainFederation {
  '@odata.type': '#microsoft.graph.internalDomainFederation';
  displayName: string;
  issuerUri: string;
  passiveSignInUri: string;
  signOutUri: string;
  activeSignInUri?: string;
  metadataExchangeUri?: string;
  signingCertificate: string;
  nextSigningCertificate?: string;
  preferredAuthenticationProtocol: EntraProtocol;
  promptLoginBehavior: 'nativeSupport';
  federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp';
}

/** fedgate's endpoints, as AD FS names them so that a domain moved from AD FS keeps its paths. */
export function federationEndpoints(baseUrl: string) {
  return {
    passiveSignInUri: `${baseUrl}/adfs/ls/`,
    signOutUri: `${baseUrl}/adfs/ls/?wa=wsignout1.0`,
    metadataUrl: `${baseUrl}/FederationMetadata/2007-06/FederationMetadata.xml`,
  };
}

/** A federated domain of an Entra relying party, and the protocol fedgate serves it with. */
export type EntraDomain = FederatedDomain & { readonly protocol: EntraProtocol };

/** The domains of every Entra relying party: WS-Fed (protocol wsfed) and SAML 2.0 (protocol saml). */
export function entraDomains(config: Config): EntraDomain[] {
  return config.relyingParties.flatMap((rp) => {
    if (rp.protocol === 'oidc' || rp.profile !== 'entra') return [];
    const protocol: EntraProtocol = rp.protocol === 'wsfed' ? 'wsFed' : 'saml';
    return rp.domains.map((d) => ({ ...d, protocol }));
  });
}

/** The configured federated domain named `name`; a CliError (exit 2) naming the configured ones otherwise. */
export function findEntraDomain(config: Config, name: string): EntraDomain {
  const wanted = name.trim().toLowerCase().replace(/\.$/, '');
  const domains = entraDomains(config);
  if (domains.length === 0) {
    throw new CliError('no relying party with profile: entra (protocol wsfed or saml) is configured: add one with the federated domains (see examples/fedgate.yaml)', 2);
  }
  const found = domains.find((d) => d.name === wanted);
  if (found) return found;
  const configured = `configured federated domains: ${domains.map((d) => d.name).join(', ')}`;
  const parent = domains.find((d) => wanted.endsWith(`.${d.name}`));
  if (parent) {
    // Entra has no federation settings of its own for a sub-domain: it follows its root domain's.
    throw new CliError(`${wanted} is a sub-domain of ${parent.name}: Entra federates only the parent domain, and its `
      + `sub-domains sign in through it (their users get ${parent.name}'s issuerUri). Configure ${parent.name} instead:\n`
      + `  fedgate entra-domain --domain ${parent.name} ...\n${configured}`, 2);
  }
  throw new CliError(`${wanted} is not a federated domain of fedgate's Entra relying party (relyingParties[].domains).\n${configured}`, 2);
}

export function internalDomainFederation(config: Config, domain: FederatedDomain, keys: KeyStore, options: { protocol: EntraProtocol }): InternalDomainFederation {
  const uris = federationEndpoints(config.server.baseUrl);
  // WS-Trust as fedgate serves it: Entra must not send clients to an endpoint that is off (MEX is then a 404).
  const wsTrust = wsTrustReferences(config);
  return {
    '@odata.type': '#microsoft.graph.internalDomainFederation',
    displayName: config.federation.displayName ?? config.branding.organizationName,
    issuerUri: domain.issuerUri,
    passiveSignInUri: uris.passiveSignInUri,
    // Entra appends its SAML LogoutRequest to the SAML signOutUri (§2.5): no wa parameter there.
    signOutUri: options.protocol === 'saml' ? uris.passiveSignInUri : uris.signOutUri,
    ...(wsTrust?.activeSignInUri ? { activeSignInUri: wsTrust.activeSignInUri } : {}),
    ...(wsTrust ? { metadataExchangeUri: wsTrust.metadataExchangeUri } : {}),
    signingCertificate: keys.current.certificateBase64,
    ...(keys.next ? { nextSigningCertificate: keys.next.certificateBase64 } : {}),
    preferredAuthenticationProtocol: options.protocol,
    promptLoginBehavior: 'nativeSupport',
    federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp',
  };
}

/**
 * A PowerShell single-quoted string: nothing inside is interpreted. PowerShell also ends such a
 * string at typographic single quotes, so those are doubled as well.
 */
export function psQuote(value: string): string {
  return `'${value.replace(/['\u2018\u2019\u201A\u201B]/g, '$&$&')}'`;
}

/** `-Name 'value'` for each property: the Graph SDK cmdlets name their parameters after the properties. */
function psParameters(properties: Readonly<Record<string, string>>): string {
  return Object.entries(properties)
    .filter(([name]) => !name.startsWith('@'))
    .map(([name, value]) => `-${name[0]!.toUpperCase()}${name.slice(1)} ${psQuote(value)}`)
    .join(' ');
}

function asStrings(body: InternalDomainFederation): Record<string, string> {
  return Object.fromEntries(Object.entries(body).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

export function newCommand(domain: string, body: InternalDomainFederation): string {
  return `New-MgDomainFederationConfiguration -DomainId ${psQuote(domain)} ${psParameters(asStrings(body))}`;
}

/**
 * Update needs the id of the domain's configuration; fetching it first keeps the lines pasteable
 * (a literal `<id>` placeholder is a redirection error in PowerShell).
 */
export function updateCommands(domain: string, properties: Readonly<Record<string, string>>): string[] {
  return [
    `$fed = Get-MgDomainFederationConfiguration -DomainId ${psQuote(domain)}`,
    `Update-MgDomainFederationConfiguration -DomainId ${psQuote(domain)} -InternalDomainFederationId $fed.Id ${psParameters(properties)}`,
  ];
}

export function graphUrl(domain: string): string {
  return `https://graph.microsoft.com/v1.0/domains/${domain}/federationConfiguration`;
}

export async function runEntraDomain(args: readonly string[]): Promise<number> {
  return runCommand(async () => {
    const { values } = parseCommandArgs(args, {
      config: { type: 'string', short: 'c' },
      domain: { type: 'string' },
      protocol: { type: 'string' },
      check: { type: 'string' },
      json: { type: 'boolean', default: false },
      // Earlier versions added WS-Trust only on request; the configuration decides now.
      'with-ws-trust': { type: 'boolean', default: false },
    }, ENTRA_DOMAIN_USAGE);
    if (!values.domain) throw new CliError(`--domain is required\n\n${ENTRA_DOMAIN_USAGE}`, 2);
    const asked = values.protocol === undefined ? undefined : parseProtocol(values.protocol);
    if (values.json && values.check) throw new CliError(`--json and --check do not go together\n\n${ENTRA_DOMAIN_USAGE}`, 2);
    const config = loadCommandConfig(values.config, ENTRA_DOMAIN_USAGE);
    const domain = findEntraDomain(config, values.domain);
    // Entra would send the other protocol's messages, which fedgate would refuse for this domain.
    if (asked !== undefined && asked !== domain.protocol) {
      throw new CliError(`${domain.name} is served over ${domain.protocol} (its relying party has protocol ${domain.protocol === 'wsFed' ? 'wsfed' : 'saml'}): `
        + `Entra must use the same. Leave out --protocol, or move the domain to a relying party with protocol ${asked === 'wsFed' ? 'wsfed' : 'saml'}.`, 2);
    }
    const protocol = domain.protocol;
    if (domain.name.endsWith('.onmicrosoft.com')) {
      throw new CliError(`${domain.name}: Entra federates only verified custom domains, never *.onmicrosoft.com (entra-federation.md §5.2)`, 2);
    }
    // Checking against a key generated on the spot would only report Entra's certificate as unknown.
    const keys = await loadKeys(config, values.check === undefined);
    const body = internalDomainFederation(config, domain, keys, { protocol });
    if (values.check) {
      const exported = readExported(values.check);
      const findings = checkFederation(exported, body, keys, config);
      process.stdout.write(formatFindings(domain.name, findings));
      return findings.some((f) => f.level === 'ERROR') ? 1 : 0;
    }
    process.stdout.write(values.json ? `${JSON.stringify(body, null, 2)}\n` : instructions(config, domain.name, body, keys));
    return 0;
  });
}

function parseProtocol(value: string | undefined): EntraProtocol {
  // Graph spells them wsFed and saml; MSOnline spelt WsFed and Samlp, which admins still type.
  const lower = (value ?? 'wsFed').toLowerCase();
  if (lower === 'wsfed') return 'wsFed';
  if (lower === 'saml' || lower === 'samlp') return 'saml';
  throw new CliError(`--protocol must be wsFed or saml, not ${value}\n\n${ENTRA_DOMAIN_USAGE}`, 2);
}

/**
 * The keys the server will sign with. A missing generated key is generated here exactly as
 * `serve` would at its first start, so that Entra can be configured before fedgate first runs.
 */
async function loadKeys(config: Config, mayGenerate: boolean): Promise<KeyStore> {
  const paths = generatedKeyPaths(config.dataDir, 'current');
  const generating = !config.signing.keyFile && !(existsSync(paths.keyFile) && existsSync(paths.certFile));
  if (generating && !mayGenerate) {
    throw new CliError(`fedgate has no signing key yet (${paths.certFile}): nothing to compare with; is --config the server's configuration?`, 1);
  }
  const keys = await loadKeyStore(config, createLogger('silent'));
  if (generating) {
    giveToFolderOwner(config.dataDir, [paths.dir, paths.keyFile, paths.certFile]);
    process.stderr.write(`note: generated the token-signing certificate ${paths.certFile}; fedgate serve uses it when it runs with the same dataDir\n`);
  }
  return keys;
}

function instructions(config: Config, domain: string, body: InternalDomainFederation, keys: KeyStore): string {
  const uris = federationEndpoints(config.server.baseUrl);
  const json = JSON.stringify(body, null, 2);
  const lines: string[] = [
    `# Federating ${domain} with fedgate at ${config.server.baseUrl} (Microsoft Entra ID, entra-federation.md §5)`,
    '#',
  ];
  if (body.activeSignInUri) {
    lines.push('# WS-Trust is included (activeSignInUri, metadataExchangeUri): Windows sign-in (Primary Refresh Token),',
      '# username/password (ROPC) clients and older Office clients use it (§3.1). It follows wsTrust in the configuration.');
  } else if (body.metadataExchangeUri) {
    lines.push('# WS-Trust: only metadataExchangeUri is included: fedgate serves windowstransport (hybrid join) but not usernamemixed',
      '# (wsTrust.usernameMixed is off), so Windows gets no Primary Refresh Token from a password and ROPC clients fail (§3.1).');
  } else {
    lines.push(
      '# WS-Trust endpoints (activeSignInUri, metadataExchangeUri) are left out: wsTrust is off in fedgate\'s configuration.',
      '# Without them Windows gets no Primary Refresh Token at sign-in and username/password (ROPC) clients fail',
      '# for federated users (§3.1). Turn on wsTrust.usernameMixed and run this again.',
    );
  }
  if (!config.server.baseUrl.startsWith('https://')) {
    lines.push('# WARNING: server.baseUrl is not https: Entra sends people\'s browsers, and their passwords, to these URIs; use https.');
  }
  if (new URL(config.server.baseUrl).pathname !== '/') {
    // §5.3 [U]: the metadata Entra polls is thought to be derived from the sign-in host alone.
    lines.push(`# WARNING: server.baseUrl has a path: Entra's automatic certificate rollover probably looks for the metadata at`,
      `#   https://${new URL(config.server.baseUrl).host}/FederationMetadata/2007-06/FederationMetadata.xml; publish it there too, or roll certificates manually (fedgate keys next).`);
  }
  for (const [slot, key] of [['current', keys.current], ['next', keys.next]] as const) {
    if (key && daysUntilExpiry(key) < EXPIRY_WARNING_DAYS) {
      lines.push(`# WARNING: the ${slot} signing certificate expires in ${Math.floor(daysUntilExpiry(key))} days: ${slot === 'current' && !keys.next ? 'create the next one with fedgate keys next' : 'promote or replace it'}.`);
    }
  }
  lines.push(
    '',
    '## 1. Microsoft Graph (permission Domain-InternalFederation.ReadWrite.All)',
    '#',
    '# promptLoginBehavior nativeSupport: Entra passes prompt=login through and fedgate re-authenticates the user (§6.3, §11.8);',
    '#   Entra\'s default (translateToFreshPasswordAuthentication: wfresh=0 + wauth=password) also works, but asks for a password again.',
    '# federatedIdpMfaBehavior rejectMfaByFederatedIdp: Entra always does MFA itself where its policies require it and ignores',
    '#   any MFA claim in a token (Microsoft\'s recommendation, §5.2/§6.1: a stolen signing key cannot claim MFA). fedgate does',
    '#   no MFA and never claims it, so users see the same prompts as with acceptIfMfaDoneByFederatedIdp.',
    ...(body.nextSigningCertificate ? ['# nextSigningCertificate: fedgate\'s next key (fedgate keys next); Entra accepts tokens signed with either.'] : []),
    '',
    `# A managed (not yet federated) domain: this converts it. Sign-ins may fail for up to ~2 hours, and every user must`,
    `# already exist in Entra with the ImmutableID fedgate sends (§5.2).`,
    `POST ${graphUrl(domain)}`,
    'Content-Type: application/json',
    '',
    json,
    '',
    '# A domain already federated (e.g. with AD FS): GET the URL above for its "id", then',
    `PATCH ${graphUrl(domain)}/{id}`,
    '# with the same body.',
    '',
    '## 2. PowerShell (Microsoft Graph PowerShell SDK)',
    '',
    `Connect-MgGraph -Scopes 'Domain-InternalFederation.ReadWrite.All'`,
    '# a managed domain:',
    newCommand(domain, body),
    '# a domain already federated:',
    ...updateCommands(domain, asStrings(body)),
    '',
    '## 3. Federation metadata',
    '',
    uris.metadataUrl,
    '# It must be reachable from the internet: Entra\'s automatic certificate rollover reads the next certificate from it,',
    '# starting 30-35 days before the current one expires (§5.3). If it is not reachable, set nextSigningCertificate',
    '# yourself after fedgate keys next.',
    '',
    `# Then check what Entra holds: Get-MgDomainFederationConfiguration -DomainId ${psQuote(domain)} | ConvertTo-Json > entra.json`,
    `#   fedgate entra-domain --config FILE --domain ${domain} --check entra.json`,
  );
  return `${lines.join('\n')}\n`;
}

// --check ---------------------------------------------------------------------------------------

export interface Finding {
  level: 'ERROR' | 'WARNING';
  property: string;
  message: string;
}

type Exported = Readonly<Record<string, unknown>>;

/**
 * The exported configuration(s). Graph returns `{ "value": [ ... ] }` for the collection, the
 * object itself for one; PowerShell 5 writes files as UTF-16 with a byte order mark.
 */
function readExported(file: string): Exported[] {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 2);
  }
  const text = raw[0] === 0xff && raw[1] === 0xfe ? raw.subarray(2).toString('utf16le') : raw.toString('utf8').replace(/^\uFEFF/, '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not JSON: ${(err as Error).message}`, 2);
  }
  const isObject = (v: unknown): v is Exported => v !== null && typeof v === 'object' && !Array.isArray(v);
  const items = isObject(parsed) && Array.isArray(parsed.value) ? parsed.value : Array.isArray(parsed) ? parsed : [parsed];
  if (!items.every(isObject) || !items.every((o) => ['issuerUri', 'passiveSignInUri', 'signingCertificate'].some((p) => hasKey(o, p)))) {
    throw new CliError(`${file} does not hold a domain federation configuration (issuerUri, passiveSignInUri, signingCertificate)`, 2);
  }
  return items;
}

function hasKey(o: Exported, name: string): boolean {
  return Object.keys(o).some((k) => k.toLowerCase() === name.toLowerCase());
}

/** A property as Graph (camelCase) or PowerShell's ConvertTo-Json (PascalCase) spells it; null and '' are "not set". */
function field(o: Exported, name: string): string | undefined {
  const key = Object.keys(o).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : o[key];
  if (value === undefined || value === null || value === '') return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** URIs compared as a browser would reach them: scheme and host case, and a trailing slash of the path, do not matter. */
function sameUri(a: string, b: string): boolean {
  try {
    const [x, y] = [new URL(a), new URL(b)];
    const path = (u: URL) => u.pathname.replace(/\/+$/, '');
    return x.origin === y.origin && path(x) === path(y) && x.search === y.search;
  } catch {
    return a === b;
  }
}

const show = (v: string | undefined) => (v === undefined ? '(not set)' : `"${v}"`);

export function checkFederation(items: readonly Exported[], expected: InternalDomainFederation, keys: KeyStore, config: Config): Finding[] {
  const findings: Finding[] = [];
  if (items.length === 0) {
    return [{ level: 'ERROR', property: 'federationConfiguration', message: 'Entra has none: the domain is managed, not federated (create it with the POST or New-MgDomainFederationConfiguration of fedgate entra-domain)' }];
  }
  if (items.length > 1) {
    findings.push({ level: 'ERROR', property: 'federationConfiguration', message: `Entra has ${items.length} configurations for the domain; expected one (checking the first)` });
  }
  const entra = items[0]!;
  const error = (property: string, message: string) => findings.push({ level: 'ERROR', property, message });
  const warning = (property: string, message: string) => findings.push({ level: 'WARNING', property, message });

  const issuer = field(entra, 'issuerUri');
  // The token Issuer must equal issuerUri character for character (§11.1): no URI normalisation here.
  if (issuer !== expected.issuerUri) error('issuerUri', `Entra has ${show(issuer)}, fedgate has ${show(expected.issuerUri)} (tokens are rejected unless they match exactly)`);
  for (const property of ['passiveSignInUri', 'signOutUri'] as const) {
    const value = field(entra, property);
    // AD FS farms moved to fedgate often have signOutUri .../adfs/ls/ without wa: a bare GET of
    // the endpoint signs out too (§1.7), so that works as it is.
    const bareSignOut = property === 'signOutUri' && value !== undefined && sameUri(value, expected.passiveSignInUri);
    if (value === undefined || (!sameUri(value, expected[property]) && !bareSignOut)) error(property, `Entra has ${show(value)}, fedgate has ${show(expected[property])}`);
  }
  checkWsTrust(entra, expected, config, error, warning);

  const protocol = field(entra, 'preferredAuthenticationProtocol');
  const protocolMatches = protocol?.toLowerCase() === expected.preferredAuthenticationProtocol.toLowerCase()
    || (protocol?.toLowerCase() === 'samlp' && expected.preferredAuthenticationProtocol === 'saml');
  if (!protocolMatches) error('preferredAuthenticationProtocol', `Entra has ${show(protocol)}, fedgate has ${show(expected.preferredAuthenticationProtocol)}`);

  const prompt = field(entra, 'promptLoginBehavior');
  if (prompt !== 'nativeSupport') {
    warning('promptLoginBehavior', `Entra has ${show(prompt)}, fedgate has "nativeSupport": works (fedgate re-authenticates on wfresh=0), but nativeSupport avoids forcing a password re-prompt (§6.3)`);
  }
  const mfa = field(entra, 'federatedIdpMfaBehavior');
  if (mfa === 'acceptIfMfaDoneByFederatedIdp' || mfa === undefined) {
    warning('federatedIdpMfaBehavior', `Entra has ${show(mfa)}, fedgate has "rejectMfaByFederatedIdp": works (fedgate never claims MFA), but reject stops a forged MFA claim (§6.1)`);
  }
  if (mfa === 'enforceMfaByFederatedIdp') {
    error('federatedIdpMfaBehavior', `Entra has "enforceMfaByFederatedIdp", fedgate has "${expected.federatedIdpMfaBehavior}": Entra would send users back to fedgate for MFA, which fedgate does not do yet`);
  }

  checkCertificates(entra, keys, config, error, warning);
  return findings;
}

/** Where Entra's userrealm sends WS-Trust clients (§3.1) against what fedgate serves. */
function checkWsTrust(entra: Exported, expected: InternalDomainFederation, config: Config, error: (p: string, m: string) => void, warning: (p: string, m: string) => void): void {
  const base = config.server.baseUrl;
  // What the property would be if fedgate served it: Entra pointing there while it is off sends clients to a 404.
  const wouldBe = { activeSignInUri: base + wsTrustPath('usernamemixed', '2005'), metadataExchangeUri: base + MEX_PATH };
  for (const property of ['activeSignInUri', 'metadataExchangeUri'] as const) {
    const value = field(entra, property);
    const ours = expected[property];
    if (ours !== undefined && value === undefined) {
      warning(property, `Entra has (not set), fedgate serves ${show(ours)}: set it, or Windows gets no Primary Refresh Token and username/password clients fail (§3.1)`);
    } else if (ours !== undefined && value !== undefined && !sameUri(value, ours)) {
      error(property, `Entra has ${show(value)}, fedgate has ${show(ours)}`);
    } else if (ours === undefined && value !== undefined) {
      const report = sameUri(value, wouldBe[property]) ? error : warning;
      report(property, `Entra has ${show(value)}, but fedgate does not serve it (wsTrust in its configuration)${report === error
        ? ': rich clients and Windows sign-in sent there fail; turn WS-Trust on in fedgate or clear the property'
        : ': rich clients sent there fail unless that server answers with tokens Entra accepts'}`);
    }
  }
}

function checkCertificates(entra: Exported, keys: KeyStore, config: Config, error: (p: string, m: string) => void, warning: (p: string, m: string) => void): void {
  const fedgate = [keys.current, ...(keys.next ? [keys.next] : [])];
  const previousFile = previousKeyPaths(config.dataDir).certFile;
  const previous = existsSync(previousFile) ? parseCertificate(readFileSync(previousFile))?.raw : undefined;
  const held = (['signingCertificate', 'nextSigningCertificate'] as const).map((property) => {
    const text = field(entra, property);
    const der = text === undefined ? undefined : certificateDer(text);
    return { property, text, der, cert: der && parseCertificate(der) };
  });
  const holds = (raw: Buffer) => held.some((h) => h.der?.equals(raw) === true);
  for (const { property, text, der, cert } of held) {
    const ours = property === 'signingCertificate' ? keys.current.certificate : keys.next?.certificate;
    const oursText = ours ? describeCertificate(ours) : '(not set)';
    // Entra accepts tokens signed with either of its two certificates (§5.1): what fails sign-ins is
    // fedgate's current one missing from both.
    const consequence = property === 'signingCertificate' && !holds(keys.current.certificate.raw) ? ' (sign-ins fail: Entra holds no certificate fedgate signs with)' : '';
    if (text === undefined) {
      if (property === 'signingCertificate' || keys.next) error(property, `Entra has (not set), fedgate has ${oursText}${consequence}`);
      continue;
    }
    if (!der || !cert) {
      error(property, `Entra has a value that is not a base64 DER certificate, fedgate has ${oursText}${consequence}`);
      continue;
    }
    if (!fedgate.some((k) => k.certificate.raw.equals(der))) {
      const which = previous?.equals(der) ? "fedgate's previous certificate (retired by keys promote)" : 'a certificate fedgate does not have';
      error(property, `Entra has ${which}: ${describeCertificate(cert)}; fedgate has ${oursText}${consequence}`);
    } else if (property === 'signingCertificate' && consequence) {
      error(property, `Entra has ${describeCertificate(cert)}, fedgate has ${oursText}${consequence}`);
    } else if (property === 'nextSigningCertificate' && keys.next && !holds(keys.next.certificate.raw)) {
      // Entra's "next" is fedgate's current: fine today, but fedgate's next is missing for the rollover.
      error(property, `Entra has ${describeCertificate(cert)}, fedgate has ${oursText}: give Entra the next certificate before fedgate keys promote`);
    }
    const days = daysLeft(cert);
    if (days < 0) error(property, `the certificate Entra holds has expired: ${describeCertificate(cert)}`);
    else if (days < EXPIRY_WARNING_DAYS) {
      warning(property, `the certificate Entra holds expires within ${EXPIRY_WARNING_DAYS} days: ${describeCertificate(cert)}${keys.next ? '' : ' (run fedgate keys next, then give Entra the next certificate)'}`);
    }
  }
}

function formatFindings(domain: string, findings: readonly Finding[]): string {
  if (findings.length === 0) return `OK: Entra's federation configuration of ${domain} matches fedgate's\n`;
  const errors = findings.filter((f) => f.level === 'ERROR').length;
  const lines = findings.map((f) => `${f.level} ${f.property}: ${f.message}`);
  lines.push(`${domain}: ${errors} error(s), ${findings.length - errors} warning(s)${errors ? '; fix them with the Update-MgDomainFederationConfiguration line of fedgate entra-domain' : ''}`);
  return `${lines.join('\n')}\n`;
}
