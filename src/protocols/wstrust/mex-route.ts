import express, { Router } from 'express';
import type { Config } from '../../config/schema.js';
import { serializeCanonical } from '../../xml/canonical-xml.js';
import { XmlRejectedError } from '../../xml/parse-xml.js';
import { METADATA_CACHE_CONTROL } from '../wsfed/metadata-route.js';
import { MEX_INCLUSIVE_PREFIXES, mexDefinitions } from './mex-document.js';
import { enabledWsTrustEndpoints, MEX_PATH } from './mex-endpoints.js';
import { readMexRequest, writeMexResponse } from './mex-soap.js';

/**
 * The MEX document at /adfs/services/trust/mex (entra-federation.md §3.4): GET as MSAL and Windows
 * read it, POST as WCF's metadata exchange asks for it. It lists only the enabled endpoints; with
 * none, there is no MEX (404), so Entra's userrealm never leads a client to an endpoint that is off.
 * The configuration is fixed for the process's life, so the document is written once.
 */
export function mexRoutes(config: Config): Router {
  const router = Router();
  const endpoints = enabledWsTrustEndpoints(config);
  if (endpoints.length === 0) return router;
  const definitions = mexDefinitions(endpoints);
  const document = serializeCanonical(definitions, { inclusivePrefixes: MEX_INCLUSIVE_PREFIXES }).xml;

  router.get(MEX_PATH, (_req, res) => {
    res.type('text/xml; charset=utf-8').set('Cache-Control', METADATA_CACHE_CONTROL).send(document);
  });
  router.post(MEX_PATH, express.raw({ type: () => true, limit: '16kb' }), (req, res, next) => {
    try {
      const request = Buffer.isBuffer(req.body) ? readMexRequest(req.body) : undefined;
      if (request) {
        res.type('application/soap+xml; charset=utf-8').send(writeMexResponse(request, definitions));
        return;
      }
    } catch (err) {
      if (!(err instanceof XmlRejectedError)) return next(err);
    }
    res.status(400).type('text/plain').send('Expected a SOAP 1.2 WS-Transfer Get or WS-MetadataExchange GetMetadata request.\n');
  });
  return router;
}
