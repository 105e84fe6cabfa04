import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { IdpError } from '../../core/errors.js';
import { messageIdOf } from './rst.js';
import { readSoapEnvelope, type SoapMessage } from './soap-envelope.js';
import { SoapFault } from './soap-fault.js';
import { bodyErrorsAsFaults, readSoapBody, sendFault, sendSoap, transportActions } from './soap-http.js';

/**
 * One WS-Trust endpoint over HTTP: reads and checks the envelope, runs the endpoint's handler and
 * answers with its response or a fault. Every request gets one log line (request id, endpoint,
 * relying party, outcome); no password or token ever reaches it. Whatever goes wrong, the client
 * gets a fault, never a stack trace.
 */
export interface SoapCall {
  readonly req: Request;
  readonly message: SoapMessage;
  /** Actions named by the HTTP request (Content-Type action, SOAPAction). */
  readonly transportActions: readonly string[];
  /** Fields for the request's log line (the handler adds the relying party, the assertion id...). */
  readonly log: Record<string, unknown>;
}

/** Returns the response envelope; refuses with a SoapFault. */
export type SoapHandler = (call: SoapCall) => Promise<string>;

/** Errors that are not faults: a request fedgate cannot serve is the sender's; anything else is ours. */
function asFault(err: unknown): SoapFault {
  if (err instanceof SoapFault) return err;
  if (err instanceof IdpError && err.status < 500) return new SoapFault('request-failed', `${err.code}: ${err.detail ?? err.message}`);
  const detail = err instanceof IdpError ? `${err.code}: ${err.detail ?? err.message}` : err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new SoapFault('receiver', detail);
}

export function soapEndpoint(endpoint: string, handle: SoapHandler): (RequestHandler | ErrorRequestHandler)[] {
  const run = async (req: Request, res: Response) => {
    const log: Record<string, unknown> = { endpoint };
    let relatesTo: string | undefined;
    try {
      const actions = transportActions(req);
      const message = readSoapEnvelope(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
      relatesTo = messageIdOf(message);
      const xml = await handle({ req, message, transportActions: actions, log });
      req.log.info(log, 'wstrust: token issued');
      sendSoap(res, 200, xml);
    } catch (err) {
      const fault = asFault(err);
      const level = fault.kind === 'receiver' ? 'error' : 'warn';
      req.log[level]({ ...log, fault: fault.kind, detail: fault.detail, ...(fault.kind === 'receiver' && !(err instanceof SoapFault) ? { err } : {}) }, 'wstrust: fault');
      sendFault(res, fault, relatesTo);
    }
  };
  return [readSoapBody, run, bodyErrorsAsFaults];
}

/** Anything but POST: 405 with a fault, so a browser or a probe sees what the endpoint is. */
export const onlyPost: RequestHandler = (_req, res) => {
  res.set('Allow', 'POST');
  sendFault(res, new SoapFault('request-failed', 'not POST', { status: 405 }));
};
