import { Router, type Request, type Response } from 'express';
import type { Config } from '../../config/schema.js';
import { serializeCanonical } from '../../xml/canonical-xml.js';
import { METADATA_CACHE_CONTROL } from '../wsfed/metadata-route.js';
import { MEX_INCLUSIVE_PREFIXES, mexDefinitions } from './mex-document.js';
import { enabledWsTrustEndpoints, MEX_PATH } from './mex-endpoints.js';
import { readMexRequest, writeMexResponse } from './mex-soap.js';
import { SoapFault } from './soap-fault.js';
import { bodyErrorsAsFaults, readSoapBody, sendFault, sendSoap, transportActions } from './soap-http.js';

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
  const exchange = (req: Request, res: Response) => {
    try {
      transportActions(req); // SOAP 1.2 media type, UTF-8; the action is the envelope's wsa:Action
      sendSoap(res, 200, writeMexResponse(readMexRequest(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)), definitions));
    } catch (err) {
      if (!(err instanceof SoapFault)) throw err;
      req.log.warn({ endpoint: 'mex', fault: err.kind, detail: err.detail }, 'wstrust: fault');
      sendFault(res, err);
    }
  };
  router.post(MEX_PATH, readSoapBody, exchange, bodyErrorsAsFaults);
  return router;
}
