import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { MAX_SOAP_BYTES } from './soap-envelope.js';
import { SoapFault, writeSoapFault } from './soap-fault.js';

/**
 * SOAP 1.2 over HTTP for the WS-Trust endpoints: the raw body (bounded, never decompressed), the
 * Content-Type, the actions the HTTP request names, and the answer.
 */
export const SOAP12_MEDIA_TYPE = 'application/soap+xml';

/** The body as bytes, for parseXml. The app's form parser does not touch application/soap+xml. */
export const readSoapBody: RequestHandler = express.raw({ type: () => true, limit: MAX_SOAP_BYTES, inflate: false });

/** Content-Type parameters (`; name=value` or `; name="value"`), lower-case names. */
function mediaType(header: string | undefined): { type: string; params: Map<string, string> } {
  const [type = '', ...rest] = (header ?? '').split(';');
  const params = new Map<string, string>();
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const value = part.slice(eq + 1).trim();
    params.set(part.slice(0, eq).trim().toLowerCase(), value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value);
  }
  return { type: type.trim().toLowerCase(), params };
}

/**
 * Checks the Content-Type (SOAP 1.2, UTF-8) and returns the actions the HTTP request names: the
 * Content-Type action parameter (SOAP 1.2) and the SOAPAction header (MSAL sends it too).
 */
export function transportActions(req: Request): string[] {
  const { type, params } = mediaType(req.headers['content-type']);
  if (type !== SOAP12_MEDIA_TYPE) throw new SoapFault('request-failed', `Content-Type ${type || '(none)'}`, { status: 415 });
  const charset = params.get('charset')?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8') throw new SoapFault('request-failed', `charset ${charset}`, { status: 415 });
  const actions: string[] = [];
  const action = params.get('action');
  if (action !== undefined) actions.push(action);
  const soapAction = req.headers.soapaction;
  if (typeof soapAction === 'string' && soapAction.trim() !== '') actions.push(soapAction.trim().replace(/^"(.*)"$/, '$1'));
  return actions;
}

export function sendSoap(res: Response, status: number, xml: string): void {
  res.status(status).set({ 'Content-Type': `${SOAP12_MEDIA_TYPE}; charset=utf-8`, 'Cache-Control': 'no-store' }).send(xml);
}

export function sendFault(res: Response, fault: SoapFault, relatesTo?: string): void {
  const written = writeSoapFault(fault, relatesTo);
  sendSoap(res, written.status, written.xml);
}

/** body-parser's refusals (too large, compressed) as faults rather than the HTML error page. */
export const bodyErrorsAsFaults: ErrorRequestHandler = (err, req, res, next) => {
  const e = err as { status?: number; type?: string };
  if (typeof e?.status !== 'number' || typeof e.type !== 'string') return next(err);
  const status = e.type === 'entity.too.large' ? 413 : e.type === 'encoding.unsupported' ? 415 : 400;
  req.log.warn({ status, reason: e.type }, 'wstrust: request body refused');
  sendFault(res, new SoapFault('request-failed', e.type, { status }));
};
