/**
 * Claim type URIs, always in their http:// form (entra-federation.md: the https:// forms on some
 * Microsoft pages are a documentation erratum; Entra and AD FS use http://).
 */
export const ClaimType = {
  upn: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn',
  immutableId: 'http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID',
  email: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  name: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
  givenName: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname',
  surname: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname',
  windowsAccountName: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/windowsaccountname',
  primarySid: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/primarysid',
  objectGuid: 'http://schemas.microsoft.com/identity/claims/onpremobjectguid',
  group: 'http://schemas.xmlsoap.org/claims/Group',
  authenticationMethod: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/authenticationmethod',
  authnMethodsReferences: 'http://schemas.microsoft.com/claims/authnmethodsreferences',
  authenticationInstant: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/authenticationinstant',
} as const;
