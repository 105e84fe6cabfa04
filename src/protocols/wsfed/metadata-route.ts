import { Router } from 'express';
import type { Config } from '../../config/schema.js';
import { federationIdentifier } from '../../config/schema.js';
import type { KeyStore } from '../../keys/key-store.js';
import { ClaimType } from '../../claims/claim-types.js';
import { writeFederationMetadata } from './federation-metadata.js';

/**
 * Signed WS-Federation metadata at AD FS's path (entra-federation.md §4, §5.3): Entra's automatic
 * certificate rollover reads it, so it lists the current and, during a rollover, the next signing
 * certificate. Keys change only at start, so the document is signed once and served as is.
 */
export const METADATA_PATH = '/FederationMetadata/2007-06/FederationMetadata.xml';

const OFFERED = [
  { uri: 'http://schemas.xmlsoap.org/claims/UPN', displayName: 'UPN', description: 'The user principal name (Entra ID)' },
  { uri: 'http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID', displayName: 'ImmutableID', description: 'The source anchor (Entra ID)' },
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
  { uri: 'http://schemas.microsoft.com/ws/2012/01/insidecorporatenetwork', displayName: 'Inside Corporate Network', description: 'Whether the user signed in from inside the corporate network' },
];

export function metadataRoutes(config: Config, keys: KeyStore): Router {
  const document = writeFederationMetadata({
    entityId: federationIdentifier(config),
    displayName: config.federation.displayName ?? config.branding.organizationName,
    signingCertificates: [keys.current, ...(keys.next ? [keys.next] : [])].map((k) => k.certificateBase64),
    passiveRequestorEndpoint: `${config.server.baseUrl}/adfs/ls/`,
    claimTypes: OFFERED,
  }, keys.current);
  const router = Router();
  router.get(METADATA_PATH, (_req, res) => {
    res.type('application/samlmetadata+xml').set('Cache-Control', 'public, max-age=3600').send(document);
  });
  return router;
}
