import { Router } from 'express';
import type { RenderPage } from '../../http/render.js';
import type { ServiceProviderLookup } from './sso-routes.js';

/**
 * AD FS's /adfs/ls/idpinitiatedsignon page (off by default, as in AD FS: it tells anyone which
 * applications the organisation uses): the SPs that allow IdP-initiated sign-on, each a link to
 * /saml/idp-initiated, which signs the person in (or reuses the session) and posts the response.
 */
export function idpInitiatedPage(deps: { render: RenderPage; serviceProviders: ServiceProviderLookup }): Router {
  const router = Router();
  router.get(['/adfs/ls/idpinitiatedsignon', '/adfs/ls/idpinitiatedsignon.aspx'], (req, res) => {
    const applications = deps.serviceProviders.list()
      .filter((sp) => sp.allowIdpInitiated)
      .map((sp) => ({ name: sp.displayName, href: `/saml/idp-initiated?sp=${encodeURIComponent(sp.entityId)}` }))
      .sort((a, b) => a.name.localeCompare(b.name));
    deps.render(req, res, 'saml-idp-initiated', { applications });
  });
  return router;
}
