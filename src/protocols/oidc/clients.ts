import type { ClientMetadata, JWKS } from 'oidc-provider';
import type { OidcConfig, OidcRelyingPartyConfig } from '../../config/schema.js';

/**
 * A configured client as oidc-provider's client metadata (RFC 7591 names). Response types follow
 * the grant types: code for authorization_code, none otherwise.
 */
export function clientMetadataOf(rp: OidcRelyingPartyConfig, config: OidcConfig): ClientMetadata {
  const interactive = rp.grantTypes.includes('authorization_code');
  const subjectType = rp.subjectType ?? config.subjectType;
  return {
    client_id: rp.identifier,
    ...(rp.clientSecret ? { client_secret: rp.clientSecret } : {}),
    ...(rp.displayName ? { client_name: rp.displayName } : {}),
    redirect_uris: rp.replyUrls,
    post_logout_redirect_uris: rp.postLogoutRedirectUris,
    grant_types: rp.grantTypes,
    response_types: interactive ? ['code'] : [],
    token_endpoint_auth_method: rp.tokenEndpointAuthMethod,
    ...(rp.jwks ? { jwks: rp.jwks as unknown as JWKS } : {}),
    id_token_signed_response_alg: rp.idTokenSignedResponseAlg,
    ...(rp.scopes.length > 0 ? { scope: rp.scopes.join(' ') } : {}),
    subject_type: subjectType,
    // Pairwise subjects here are per client (pairwiseIdentifier hashes the client_id), so the
    // sector only has to satisfy oidc-provider's check when redirect URIs span hosts; it is never fetched.
    ...(subjectType === 'pairwise' && new Set(rp.replyUrls.map((u) => new URL(u).host)).size > 1
      ? { sector_identifier_uri: new URL('/', rp.replyUrls[0]).href } : {}),
    ...(rp.backchannelLogoutUri ? { backchannel_logout_uri: rp.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
  };
}
