import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSigningCertificate } from '../../src/keys/generate-certificate.js';
import { generatedKeyPaths } from '../../src/keys/key-store.js';
import { certBase64, configWithGeneratedKeys, configWithKeyFiles, fedgate, sha1Thumbprint, tempDir, writeConfig } from './cli-fixture.js';

const DAY = 86_400_000;
const PROPERTIES = ['@odata.type', 'displayName', 'issuerUri', 'passiveSignInUri', 'signOutUri', 'activeSignInUri', 'metadataExchangeUri',
  'signingCertificate', 'preferredAuthenticationProtocol', 'promptLoginBehavior', 'federatedIdpMfaBehavior'];
const WS_TRUST = ['activeSignInUri', 'metadataExchangeUri'];
/** fedgate without WS-Trust (wsTrust.usernameMixed off, no Kerberos): Entra must not point clients at it. */
const NO_WS_TRUST = { wsTrust: { usernameMixed: false } };

/** A configuration whose current key already exists under its dataDir (most tests share one). */
let shared: { dir: string; config: string; cert: string };
/** A certificate fedgate has never had: what Entra still holds after a botched rollover. */
let stranger: { keyPem: string; certPem: string };

beforeAll(async () => {
  const { dir, config, dataDir } = await configWithGeneratedKeys(['current']);
  shared = { dir, config, cert: generatedKeyPaths(dataDir, 'current').certFile };
  stranger = await generateSigningCertificate('old-adfs.contoso.com', 200 * DAY);
});

function graphBody(config: string, ...args: string[]): Record<string, unknown> {
  const run = fedgate('entra-domain', '--config', config, '--domain', 'contoso.com', '--json', ...args);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

/** The shared configuration's body, asked for once: each run is a process start. */
let sharedBodyCache: Record<string, unknown> | undefined;
function sharedBody(): Record<string, unknown> {
  sharedBodyCache ??= graphBody(shared.config);
  return sharedBodyCache;
}

function psQuoted(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Writes what an admin exported from Graph (or PowerShell) and runs --check against it. */
function check(config: string, exported: unknown, ...args: string[]) {
  const file = join(tempDir(), 'entra.json');
  writeFileSync(file, typeof exported === 'string' ? exported : JSON.stringify(exported));
  return fedgate('entra-domain', '--config', config, '--domain', 'contoso.com', '--check', file, ...args);
}

/** Graph's answer to GET .../federationConfiguration for a domain configured exactly as fedgate says. */
function exportedFromGraph(body: Record<string, unknown>): Record<string, unknown> {
  const { '@odata.type': _type, ...rest } = body;
  return {
    '@odata.context': "https://graph.microsoft.com/v1.0/$metadata#domains('contoso.com')/federationConfiguration",
    value: [{ '@odata.type': '#microsoft.graph.internalDomainFederation', id: '6601d14b-d113-8f64-fda2-9b5ddda18ecc',
      activeSignInUri: null, metadataExchangeUri: null, isSignedAuthenticationRequestRequired: false,
      nextSigningCertificate: null, signingCertificateUpdateStatus: { certificateUpdateResult: 'success', lastRunDateTime: '2026-11-01T00:00:00Z' },
      ...rest }],
  };
}

describe('fedgate entra-domain', () => {
  it('--json prints exactly the Graph internalDomainFederation body, derived from the configuration and the certificate in dataDir', () => {
    const body = sharedBody();
    expect(Object.keys(body)).toEqual(PROPERTIES);
    expect(body).toEqual({
      '@odata.type': '#microsoft.graph.internalDomainFederation',
      displayName: "Contoso's sign-in",
      issuerUri: 'http://contoso.com/adfs/services/trust/',
      passiveSignInUri: 'https://sts.contoso.com/adfs/ls/',
      signOutUri: 'https://sts.contoso.com/adfs/ls/?wa=wsignout1.0',
      // WS-Trust usernamemixed is on by default: the AD FS values (§3.5).
      activeSignInUri: 'https://sts.contoso.com/adfs/services/trust/2005/usernamemixed',
      metadataExchangeUri: 'https://sts.contoso.com/adfs/services/trust/mex',
      signingCertificate: certBase64(shared.cert),
      preferredAuthenticationProtocol: 'wsFed',
      promptLoginBehavior: 'nativeSupport',
      federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp',
    });
    expect(body.signingCertificate).toMatch(/^MII[A-Za-z0-9+/]+=*$/); // DER, no PEM armour or line breaks
  });

  it('URIs follow server.baseUrl (host, port, path); the issuer is the domain\'s; a missing key is generated as serve would', () => {
    const dir = tempDir();
    const config = writeConfig(dir, { server: { baseUrl: 'https://login.example.org:8443/fedgate/' }, federation: {} });
    const run = fedgate('entra-domain', '--config', config, '--domain', 'FABRIKAM.com.', '--json');
    expect(run.status).toBe(0);
    const body = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(body.passiveSignInUri).toBe('https://login.example.org:8443/fedgate/adfs/ls/');
    expect(body.signOutUri).toBe('https://login.example.org:8443/fedgate/adfs/ls/?wa=wsignout1.0');
    expect(body.activeSignInUri).toBe('https://login.example.org:8443/fedgate/adfs/services/trust/2005/usernamemixed');
    expect(body.metadataExchangeUri).toBe('https://login.example.org:8443/fedgate/adfs/services/trust/mex');
    expect(body.issuerUri).toBe('urn:fabrikam:sts');
    expect(body.displayName).toBe('fedgate'); // branding.organizationName when federation.displayName is unset
    const cert = generatedKeyPaths(join(dir, 'data'), 'current').certFile;
    expect(run.stderr).toContain(`generated the token-signing certificate ${cert}`);
    expect(body.signingCertificate).toBe(certBase64(cert));
  });

  it('a next key adds nextSigningCertificate; a domain of a SAML Entra SP is saml, signing out at the bare endpoint, with WS-Trust too', async () => {
    const saml = { relyingParties: [{ protocol: 'saml', profile: 'entra', domains: ['contoso.com'] }] };
    const { config, dataDir } = await configWithGeneratedKeys(['current', 'next'], 365, saml);
    const body = graphBody(config);
    expect(Object.keys(body).sort()).toEqual([...PROPERTIES, 'nextSigningCertificate'].sort());
    expect(body.signingCertificate).toBe(certBase64(generatedKeyPaths(dataDir, 'current').certFile));
    expect(body.nextSigningCertificate).toBe(certBase64(generatedKeyPaths(dataDir, 'next').certFile));
    expect(body.preferredAuthenticationProtocol).toBe('saml');
    // Entra sends its SAML LogoutRequest to signOutUri with the Redirect binding (§2.5): no wa there.
    expect(body.signOutUri).toBe('https://sts.contoso.com/adfs/ls/');
    expect(body.activeSignInUri).toBe('https://sts.contoso.com/adfs/services/trust/2005/usernamemixed');
    expect(body.metadataExchangeUri).toBe('https://sts.contoso.com/adfs/services/trust/mex');
    expect(graphBody(config, '--protocol', 'samlp').preferredAuthenticationProtocol).toBe('saml');
    // Scripts written for earlier versions still run: --with-ws-trust changes nothing now.
    expect(graphBody(config, '--with-ws-trust')).toEqual(body);
  });

  it('WS-Trust follows the configuration: none when fedgate serves none (even with --with-ws-trust); MEX alone for windowstransport alone', async () => {
    const { config: off } = await configWithGeneratedKeys(['current'], 365, NO_WS_TRUST);
    const body = graphBody(off);
    expect(Object.keys(body)).toEqual(PROPERTIES.filter((p) => !WS_TRUST.includes(p)));
    expect(graphBody(off, '--with-ws-trust')).toEqual(body);
    const text = fedgate('entra-domain', '--config', off, '--domain', 'contoso.com').stdout;
    expect(text).toContain('left out: wsTrust is off');
    expect(text).not.toContain('ActiveSignInUri');
    // windowstransport (hybrid join) without usernamemixed: Entra needs MEX, and no activeSignInUri.
    const keytab = join(tempDir(), 'fedgate.keytab');
    writeFileSync(keytab, '');
    const { config: kerberosOnly } = await configWithGeneratedKeys(['current'], 365, { ...NO_WS_TRUST, authn: { kerberos: { keytab, realms: ['CONTOSO.COM'] } } });
    const windows = graphBody(kerberosOnly);
    expect(windows.activeSignInUri).toBeUndefined();
    expect(windows.metadataExchangeUri).toBe('https://sts.contoso.com/adfs/services/trust/mex');
  });

  it('--protocol other than the one fedgate serves the domain with is refused (exit 2): Entra would send messages fedgate refuses', () => {
    const run = fedgate('entra-domain', '--config', shared.config, '--domain', 'contoso.com', '--protocol', 'saml');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('contoso.com is served over wsFed');
    expect(run.stdout).toBe('');
  });

  it('prints the Graph request, PowerShell New/Update lines with every parameter quoted, and the metadata URL', () => {
    const body = sharedBody();
    const run = fedgate('entra-domain', '--config', shared.config, '--domain', 'contoso.com');
    expect(run.status).toBe(0);
    const out = run.stdout;
    expect(out).toContain('POST https://graph.microsoft.com/v1.0/domains/contoso.com/federationConfiguration');
    expect(out).toContain(JSON.stringify(body, null, 2));
    const lines = out.split('\n');
    const newLine = lines.find((l) => l.startsWith('New-MgDomainFederationConfiguration '));
    const updateLine = lines.find((l) => l.startsWith('Update-MgDomainFederationConfiguration '));
    expect(newLine).toContain("-DomainId 'contoso.com' ");
    expect(updateLine).toContain("-DomainId 'contoso.com' -InternalDomainFederationId $fed.Id ");
    expect(lines).toContain("$fed = Get-MgDomainFederationConfiguration -DomainId 'contoso.com'");
    for (const [name, value] of Object.entries(body).filter(([k]) => !k.startsWith('@'))) {
      const parameter = `-${name[0]!.toUpperCase()}${name.slice(1)} ${psQuoted(String(value))}`;
      expect(newLine, name).toContain(parameter);
      expect(updateLine, name).toContain(parameter);
    }
    expect(newLine).toContain("-DisplayName 'Contoso''s sign-in'"); // a quote inside a PowerShell single-quoted string is doubled
    expect(newLine).toContain("-ActiveSignInUri 'https://sts.contoso.com/adfs/services/trust/2005/usernamemixed'");
    expect(newLine).toContain("-MetadataExchangeUri 'https://sts.contoso.com/adfs/services/trust/mex'");
    expect(out).toContain('WS-Trust is included');
    expect(out).toContain('rejectMfaByFederatedIdp');
    expect(out).toContain('https://sts.contoso.com/FederationMetadata/2007-06/FederationMetadata.xml');
    expect(out).toMatch(/reachable from the internet/);
  });

  it('refuses a domain that is not configured, naming the configured ones, and explains sub-domains (exit 2)', () => {
    const unknown = fedgate('entra-domain', '--config', shared.config, '--domain', 'northwind.com');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('northwind.com is not a federated domain');
    expect(unknown.stderr).toContain('contoso.com, fabrikam.com');
    const sub = fedgate('entra-domain', '--config', shared.config, '--domain', 'sales.contoso.com');
    expect(sub.status).toBe(2);
    expect(sub.stderr).toContain('sales.contoso.com is a sub-domain of contoso.com');
    expect(sub.stderr).toContain('--domain contoso.com');
    expect(fedgate('entra-domain', '--config', shared.config).status).toBe(2); // no --domain
    expect(fedgate('entra-domain', '--config', shared.config, '--domain', 'contoso.com', '--protocol', 'oidc').status).toBe(2);
    const noEntra = writeConfig(tempDir(), { relyingParties: [] });
    const none = fedgate('entra-domain', '--config', noEntra, '--domain', 'contoso.com');
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('profile: entra');
    expect(existsSync(join(noEntra, '..', 'data'))).toBe(false); // refused before any key was generated
  });
});

describe('fedgate entra-domain --check', () => {
  it('exits 0 when Entra holds exactly fedgate\'s settings (Graph collection or single object)', () => {
    const body = sharedBody();
    const collection = check(shared.config, exportedFromGraph(body));
    expect(collection.stdout).toBe("OK: Entra's federation configuration of contoso.com matches fedgate's\n");
    expect(collection.status).toBe(0);
    const single = check(shared.config, (exportedFromGraph(body).value as unknown[])[0]);
    expect(single.status).toBe(0);
  });

  it('reports each mismatched property on one line with Entra\'s and fedgate\'s values (exit 1)', () => {
    const body = sharedBody();
    const run = check(shared.config, {
      ...body,
      issuerUri: 'http://contoso.com/adfs/services/trust', // no trailing slash: not the same issuer
      passiveSignInUri: 'https://adfs.contoso.com/adfs/ls/',
      signOutUri: 'https://adfs.contoso.com/adfs/ls/',
      preferredAuthenticationProtocol: 'saml',
    });
    expect(run.status).toBe(1);
    const lines = run.stdout.split('\n');
    const line = (property: string) => lines.find((l) => l.startsWith(`ERROR ${property}:`)) ?? '';
    expect(line('issuerUri')).toContain('Entra has "http://contoso.com/adfs/services/trust", fedgate has "http://contoso.com/adfs/services/trust/"');
    expect(line('passiveSignInUri')).toContain('Entra has "https://adfs.contoso.com/adfs/ls/", fedgate has "https://sts.contoso.com/adfs/ls/"');
    expect(line('signOutUri')).toContain('fedgate has "https://sts.contoso.com/adfs/ls/?wa=wsignout1.0"');
    expect(line('preferredAuthenticationProtocol')).toContain('Entra has "saml", fedgate has "wsFed"');
    expect(run.stdout).toContain('4 error(s), 0 warning(s)');
  });

  it('a signOutUri of the bare passive endpoint (as AD FS farms have it) is accepted: a bare GET signs out', () => {
    const body = sharedBody();
    const run = check(shared.config, { ...body, signOutUri: 'https://sts.contoso.com/adfs/ls/' });
    expect(run.stdout).not.toContain('ERROR signOutUri');
    expect(run.status).toBe(0);
  });

  it('a stale certificate Entra holds that fedgate does not have is an error, named by thumbprint', () => {
    const body = sharedBody();
    const staleFile = join(tempDir(), 'stale.pem');
    writeFileSync(staleFile, stranger.certPem);
    const replaced = check(shared.config, { ...body, signingCertificate: certBase64(staleFile) });
    expect(replaced.status).toBe(1);
    expect(replaced.stdout).toMatch(new RegExp(`^ERROR signingCertificate: Entra has a certificate fedgate does not have: CN=fedgate Signing - old-adfs.contoso.com, SHA-1 thumbprint ${sha1Thumbprint(staleFile)}.*fedgate has .*${sha1Thumbprint(shared.cert)}.*sign-ins fail`, 'm'));
    // Entra trusting an extra certificate is still an error, though sign-ins work.
    const extra = check(shared.config, { ...body, nextSigningCertificate: certBase64(staleFile) });
    expect(extra.status).toBe(1);
    expect(extra.stdout).toMatch(/^ERROR nextSigningCertificate: Entra has a certificate fedgate does not have/m);
    expect(extra.stdout).not.toContain('sign-ins fail');
  });

  it('a certificate Entra holds that expires within 35 days is a warning (exit 0 when nothing else differs)', async () => {
    const { config, certFile } = await configWithKeyFiles(10);
    const body = graphBody(config);
    expect(body.signingCertificate).toBe(certBase64(certFile));
    const run = check(config, body);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^WARNING signingCertificate: the certificate Entra holds expires within 35 days: .*, (9|10) days left/m);
    expect(run.stdout).not.toContain('ERROR');
  });

  it('reads a PowerShell export (PascalCase, UTF-16 with BOM); promptLoginBehavior left at Entra\'s default is a warning', () => {
    const body = sharedBody();
    const pascal = Object.fromEntries(Object.entries(body).filter(([k]) => !k.startsWith('@')).map(([k, v]) => [k[0]!.toUpperCase() + k.slice(1), v]));
    const text = JSON.stringify({ ...pascal, PromptLoginBehavior: null, Id: 'abc' }, null, 4);
    const file = join(tempDir(), 'entra.json');
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const run = fedgate('entra-domain', '--config', shared.config, '--domain', 'contoso.com', '--check', file);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^WARNING promptLoginBehavior: Entra has \(not set\), fedgate has "nativeSupport": works.*avoids/m);
    const translate = check(shared.config, { ...body, promptLoginBehavior: 'translateToFreshPasswordAuthentication' });
    expect(translate.status).toBe(0);
    expect(translate.stdout).toContain('WARNING promptLoginBehavior: Entra has "translateToFreshPasswordAuthentication"');
  });

  it('during a rollover, Entra must hold fedgate\'s next certificate too; either order of the two is accepted', async () => {
    const { config } = await configWithGeneratedKeys(['current', 'next']);
    const body = graphBody(config);
    const missing = check(config, { ...body, nextSigningCertificate: null });
    expect(missing.status).toBe(1);
    expect(missing.stdout).toMatch(/^ERROR nextSigningCertificate: Entra has \(not set\), fedgate has CN=fedgate Signing/m);
    const swapped = check(config, { ...body, signingCertificate: body.nextSigningCertificate, nextSigningCertificate: body.signingCertificate });
    expect(swapped.stdout).toContain('OK');
    expect(swapped.status).toBe(0);
  });

  it('WS-Trust: missing in Entra while fedgate serves it is a warning, elsewhere an error; left in Entra while fedgate serves none: an error at fedgate, a warning elsewhere', async () => {
    const body = sharedBody();
    const missing = check(shared.config, { ...body, activeSignInUri: null, metadataExchangeUri: null });
    expect(missing.status).toBe(0);
    expect(missing.stdout).toMatch(/^WARNING activeSignInUri: Entra has \(not set\), fedgate serves "https:\/\/sts.contoso.com\/adfs\/services\/trust\/2005\/usernamemixed"/m);
    expect(missing.stdout).toMatch(/^WARNING metadataExchangeUri: Entra has \(not set\), fedgate serves "https:\/\/sts.contoso.com\/adfs\/services\/trust\/mex"/m);
    const adfs = check(shared.config, { ...body, activeSignInUri: 'https://adfs.contoso.com/adfs/services/trust/2005/usernamemixed' });
    expect(adfs.status).toBe(1);
    expect(adfs.stdout).toMatch(/^ERROR activeSignInUri: Entra has "https:\/\/adfs.contoso.com/m);
    // Trailing slash and host case do not matter, as elsewhere.
    expect(check(shared.config, { ...body, metadataExchangeUri: 'https://STS.contoso.com/adfs/services/trust/mex/' }).stdout).toContain('OK');

    const { config: off } = await configWithGeneratedKeys(['current'], 365, NO_WS_TRUST);
    const offBody = graphBody(off);
    const stale = check(off, { ...offBody, activeSignInUri: body.activeSignInUri, metadataExchangeUri: body.metadataExchangeUri });
    expect(stale.status).toBe(1);
    expect(stale.stdout).toMatch(/^ERROR activeSignInUri: Entra has "https:\/\/sts.contoso.com\/adfs\/services\/trust\/2005\/usernamemixed", but fedgate does not serve it/m);
    expect(stale.stdout).toMatch(/^ERROR metadataExchangeUri: .*turn WS-Trust on in fedgate or clear the property/m);
    const elsewhere = check(off, { ...offBody, activeSignInUri: 'https://adfs.contoso.com/adfs/services/trust/2005/usernamemixed' });
    expect(elsewhere.status).toBe(0);
    expect(elsewhere.stdout).toMatch(/^WARNING activeSignInUri: Entra has "https:\/\/adfs.contoso.com\/.*unless that server answers/m);
    expect(check(off, offBody).stdout).toContain('OK');
  });

  it('flags settings fedgate cannot honour: MFA enforced by the IdP (error); bad input', () => {
    const body = sharedBody();
    const run = check(shared.config, { ...body, federatedIdpMfaBehavior: 'enforceMfaByFederatedIdp' });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^ERROR federatedIdpMfaBehavior: Entra has "enforceMfaByFederatedIdp"/m);
    const notJson = check(shared.config, 'not json');
    expect(notJson.status).toBe(2);
    // Without a key there is nothing to compare: --check never generates one.
    const keyless = writeConfig(tempDir());
    const noKey = check(keyless, body);
    expect(noKey.status).toBe(1);
    expect(noKey.stderr).toContain('fedgate has no signing key yet');
    expect(existsSync(join(keyless, '..', 'data'))).toBe(false);
  });
});
