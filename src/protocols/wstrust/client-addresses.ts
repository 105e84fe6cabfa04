import { isIP } from 'node:net';
import type { Request } from 'express';
import type { Config } from '../../config/schema.js';
import { requestContext } from '../../http/request-context.js';

/**
 * Every address a WS-Trust request presents, all of which must be familiar for smart lockout to
 * treat it as familiar (entra-federation.md §9, as AD FS does): the client address (req.ip,
 * derived with server.trustProxy) and, only when the request came through a trusted proxy, the
 * addresses the proxy reports: x-ms-forwarded-client-ip (the real client behind Exchange Online),
 * x-ms-proxy-client-ip and every x-forwarded-for hop. A client can put anything in those headers,
 * but an extra address can only make a request less familiar, never more.
 */
const PROXY_HEADERS = ['x-ms-forwarded-client-ip', 'x-ms-proxy-client-ip', 'x-forwarded-for'] as const;
/** Enough for any real proxy chain; a longer list is not worth reading. */
const MAX_ADDRESSES = 16;

/** 1.2.3.4, 1.2.3.4:5678, [::1]:5678 or ::1 → the address; anything else → undefined. */
function addressOf(value: string): string | undefined {
  let v = value.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(v);
  if (bracketed) v = bracketed[1]!;
  else if (/^[\d.]+:\d+$/.test(v)) v = v.slice(0, v.lastIndexOf(':'));
  if (v.startsWith('::ffff:') && isIP(v.slice(7)) === 4) v = v.slice(7);
  return isIP(v) ? v.toLowerCase() : undefined;
}

/** Whether the peer is a proxy server.trustProxy names (Express's compiled trust function). */
function cameThroughTrustedProxy(req: Request, config: Config): boolean {
  if (config.server.trustProxy === false) return false;
  const trust = req.app.get('trust proxy fn') as ((address: string, hop: number) => boolean) | undefined;
  const peer = req.socket.remoteAddress;
  return trust !== undefined && peer !== undefined && trust(peer, 0);
}

export function activeClientAddresses(req: Request, config: Config): string[] {
  const found = [addressOf(requestContext(req).clientIp) ?? requestContext(req).clientIp];
  if (cameThroughTrustedProxy(req, config)) {
    for (const name of PROXY_HEADERS) {
      const header = req.headers[name];
      for (const value of (Array.isArray(header) ? header : [header ?? '']).flatMap((h) => h.split(','))) {
        const address = addressOf(value);
        if (address !== undefined) found.push(address);
      }
    }
  }
  return [...new Set(found)].slice(0, MAX_ADDRESSES);
}
