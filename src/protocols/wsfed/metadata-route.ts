import { Router, type Response } from 'express';
import type { Config } from '../../config/schema.js';
import { federationIdentifier } from '../../config/schema.js';
import type { KeyStore } from '../../keys/key-store.js';
import { ClaimType } from '../../claims/claim-types.js';
import { writeSamlMetadata } from '../saml/idp-metadata.js';
import { wsTrustReferences } from '../wstrust/mex-endpoints.js';
import { writeFederationMetadata, type OfferedClaimType } from './federation-metadata.js';

/**
 * The signed metadata documents: WS-Federation's at AD FS's path (entra-federation.md §4, §5.3),
 * which Entra's automatic certificate rollover reads and which carries the SAML IdP role too, as
 * AD FS's does; and the SAML 2.0 IdP's own at /saml/metadata. Both list the current and, during a
 * rollover, the next signing certificate. Each document is signed once per key set and served as
 * is; a reload of the keys (another node's `fedgate keys next|promote`, key-watch.ts) bumps the
 * store's generation, and the next request signs them again.
 */
export const METADATA_PATH = '/FederationMetadata/2007-06/FederationMetadata.xml';
export const SAML_METADATA_PATH = '/saml/metadata';

/** The claims of the claims pipeline (principal-claims.ts): what any application, WS-Fed or SAML, can be given. */
const PRINCIPAL_CLAIMS: readonly OfferedClaimType[] = [
  { uri: ClaimType.immutableId, displayName: 'ImmutableID', description: 'The source anchor (Entra ID)' },
  { uri: ClaimType.upn, displayName: 'UPN', description: 'The user principal name' },
  { uri: ClaimType.email, displayName: 'E-Mail Address', description: 'The e-mail address of the user' },
  { uri: ClaimType.name, displayName: 'Name', description: 'The display name of the user' },
  { uri: ClaimType.givenName, displayName: 'Given Name', description: 'The given name of the user' },
  { uri: ClaimType.surname, displayName: 'Surname', description: 'The surname of the user' },
  { uri: ClaimType.group, displayName: 'Group', description: 'A group the user is a member of' },
  { uri: ClaimType.primarySid, displayName: 'Primary SID', description: 'The SID of the user' },
  { uri: ClaimType.windowsAccountName, displayName: 'Windows account name', description: 'DOMAIN\\name' },
  { uri: ClaimType.authenticationMethod, displayName: 'Authentication method', description: 'How the user proved who they are' },
  { uri: ClaimType.authenticationInstant, displayName: 'Authentication time', description: 'When the user signed in' },
  { uri: ClaimType.authnMethodsReferences, displayName: 'Authentication Methods References', description: 'The methods used to authenticate' },
  { uri: ClaimType.objectGuid, displayName: 'On-premises object GUID', description: 'The objectGUID of the user' },
];

/** WS-Fed adds what only its Entra token says (§1.3). */
const WSFED_OFFERED: readonly OfferedClaimType[] = [
  { uri: 'http://schemas.xmlsoap.org/claims/UPN', displayName: 'UPN', description: 'The user principal name (Entra ID)' },
  ...PRINCIPAL_CLAIMS,
  { uri: 'http://schemas.microsoft.com/ws/2012/01/insidecorporatenetwork', displayName: 'Inside Corporate Network', description: 'Whether the user signed in from inside the corporate network' },
];

/** Announced as saml:Attribute elements: the Name is the claim type URI, as SAML SPs receive it by default. */
const SAML_ATTRIBUTES = PRINCIPAL_CLAIMS.map((c) => ({ name: c.uri, friendlyName: c.displayName }));

/** Both documents are cached for an hour: consumers re-read them often enough to see a rollover's next certificate in time. */
const CACHE_SECONDS = 3600;
/** The Cache-Control of every metadata document (MEX too). */
export const METADATA_CACHE_CONTROL = `public, max-age=${CACHE_SECONDS}`;

export function metadataRoutes(config: Config, keys: KeyStore): Router {
  let built: { generation: number; documents: MetadataDocuments } | undefined;
  const documents = () => {
    if (built?.generation !== keys.generation) built = { generation: keys.generation, documents: signMetadata(config, keys) };
    return built.documents;
  };
  documents();
  const router = Router();
  const serve = (which: keyof MetadataDocuments) => (_req: unknown, res: Response) => {
    res.type('application/samlmetadata+xml').set('Cache-Control', METADATA_CACHE_CONTROL).send(documents()[which]);
  };
  router.get(METADATA_PATH, serve('federationMetadata'));
  router.get(SAML_METADATA_PATH, serve('samlMetadata'));
  return router;
}

interface MetadataDocuments {
  readonly federationMetadata: string;
  readonly samlMetadata: string;
}

function signMetadata(config: Config, keys: KeyStore): MetadataDocuments {
  const base = config.server.baseUrl;
  const entityId = federationIdentifier(config);
  const signingCertificates = [keys.current, ...(keys.next ? [keys.next] : [])].map((k) => k.certificateBase64);
  const wsTrust = wsTrustReferences(config);
  const federationMetadata = writeFederationMetadata({
    entityId,
    displayName: config.federation.displayName ?? config.branding.organizationName,
    signingCertificates,
    passiveRequestorEndpoint: `${base}/adfs/ls/`,
    // WS-Trust clients that start from the metadata find MEX here, as in AD FS's (absent when MEX is a 404).
    securityTokenServiceEndpoint: wsTrust?.securityTokenServiceEndpoint,
    metadataExchangeEndpoint: wsTrust?.metadataExchangeUri,
    claimTypes: WSFED_OFFERED,
    // AD FS serves SAML 2.0 at /adfs/ls/ too, and so does fedgate.
    samlIdp: { singleSignOnUrl: `${base}/adfs/ls/`, singleLogoutUrl: `${base}/adfs/ls/`, attributes: SAML_ATTRIBUTES },
  }, keys.current);
  // No validUntil, as AD FS: the document is signed once per key set, so a validUntil would expire
  // under a long-running fedgate and SPs would drop the IdP; the certificates' own expiry bounds
  // trust. cacheDuration tells SPs how often to re-read it (as the Cache-Control header does).
  const samlMetadata = writeSamlMetadata({
    entityId,
    cacheDuration: `PT${CACHE_SECONDS}S`,
    signingCertificates,
    singleSignOnUrl: `${base}/saml/sso`,
    singleLogoutUrl: `${base}/saml/slo`,
    attributes: SAML_ATTRIBUTES,
  }, keys.current);
  return { federationMetadata, samlMetadata };
}
