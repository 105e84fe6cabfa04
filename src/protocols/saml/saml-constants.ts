/**
 * SAML 2.0 URIs fedgate reads and writes (saml-core-2.0-os, saml-bindings-2.0-os). One list, so a
 * typo in one module cannot make it disagree with another.
 */
export const SAML_NS = {
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
  xmlenc: 'http://www.w3.org/2001/04/xmlenc#',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  xs: 'http://www.w3.org/2001/XMLSchema',
} as const;

export const SAML_BINDING = {
  redirect: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
  post: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
  artifact: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact',
  soap: 'urn:oasis:names:tc:SAML:2.0:bindings:SOAP',
} as const;

/** Top-level and second-level status codes (saml-core §3.2.2.2). */
export const SAML_STATUS = {
  success: 'urn:oasis:names:tc:SAML:2.0:status:Success',
  requester: 'urn:oasis:names:tc:SAML:2.0:status:Requester',
  responder: 'urn:oasis:names:tc:SAML:2.0:status:Responder',
  versionMismatch: 'urn:oasis:names:tc:SAML:2.0:status:VersionMismatch',
  authnFailed: 'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed',
  invalidNameIdPolicy: 'urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy',
  noAuthnContext: 'urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext',
  noPassive: 'urn:oasis:names:tc:SAML:2.0:status:NoPassive',
  partialLogout: 'urn:oasis:names:tc:SAML:2.0:status:PartialLogout',
  requestDenied: 'urn:oasis:names:tc:SAML:2.0:status:RequestDenied',
  requestUnsupported: 'urn:oasis:names:tc:SAML:2.0:status:RequestUnsupported',
  unknownPrincipal: 'urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal',
} as const;

export const SAML_NAMEID_FORMAT = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  transient: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
  emailAddress: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
  entity: 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity',
} as const;

export const SAML_ATTRNAME_FORMAT = {
  uri: 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri',
  basic: 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',
  unspecified: 'urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified',
} as const;

/** Authentication context classes fedgate can truthfully state (saml-authn-context-2.0-os). */
export const SAML_AUTHN_CONTEXT = {
  passwordProtectedTransport: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
  password: 'urn:oasis:names:tc:SAML:2.0:ac:classes:Password',
  kerberos: 'urn:oasis:names:tc:SAML:2.0:ac:classes:Kerberos',
  unspecified: 'urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified',
  /** Entra's MFA class (entra-federation.md §2.3): never sent until MFA exists. */
  multipleAuthn: 'http://schemas.microsoft.com/claims/multipleauthn',
} as const;

export const SAML_BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
export const SAML_CONSENT_UNSPECIFIED = 'urn:oasis:names:tc:SAML:2.0:consent:unspecified';
/** LogoutRequest Reason when the user asked to sign out (saml-core §3.7.3). */
export const SAML_LOGOUT_REASON_USER = 'urn:oasis:names:tc:SAML:2.0:logout:user';
