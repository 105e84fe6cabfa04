import { accessSync, constants } from 'node:fs';
import type { KerberosConfig } from '../../config/schema.js';
import type { Logger } from '../../observability/logger.js';

/**
 * The Kerberos side of SPNEGO (HTTP Negotiate), on the `kerberos` package (MIT GSSAPI). One
 * acceptor per process: GSSAPI reads the keytab named by KRB5_KTNAME, which is process-wide.
 * When the module cannot load or the keytab is unusable, fedgate still runs: the acceptor says
 * Kerberos is unavailable, and everyone gets the password form.
 */
export type NegotiateResult =
  | { readonly ok: true; readonly principal: string; readonly responseToken: string | undefined }
  | { readonly ok: false; readonly reason: 'ntlm' | 'malformed' | 'rejected'; readonly detail: string };

export interface KerberosStatus {
  readonly available: boolean;
  readonly detail: string;
}

export interface NegotiateAcceptor {
  status(): KerberosStatus;
  accept(token: string): Promise<NegotiateResult>;
}

type KerberosModule = typeof import('kerberos');

/** NTLM messages start with "NTLMSSP\0" (base64 TlRMTVNTUAA): Windows' fallback when it has no ticket. */
const NTLM_PREFIX = 'TlRMTVNTUAA';
const MAX_TOKEN_LENGTH = 64 * 1024;

/** HTTP/sts.example.com[@REALM] -> the GSS host-based name HTTP@sts.example.com; '' -> any key in the keytab. */
export function gssServiceName(servicePrincipal: string | undefined): string {
  if (!servicePrincipal) return '';
  const [service, hostAndRealm = ''] = servicePrincipal.split('/');
  return `${service}@${hostAndRealm.split('@')[0]}`;
}

/** GSSAPI's messages name the fault; a few get the fix an admin needs. */
export function explainGssError(message: string): string {
  if (/clock skew/i.test(message)) return `${message} (the clocks of this server and the domain controllers differ by more than 5 minutes: fix NTP)`;
  if (/not found in keytab|no key table entry|wrong principal/i.test(message)) {
    return `${message} (the keytab lacks the key browsers use: check the SPN with setspn -Q and export the keytab again)`;
  }
  if (/integrity check failed|decrypt/i.test(message)) return `${message} (the keytab's key is out of date: the account's password or kvno changed; export it again)`;
  return message;
}

export async function createNegotiateAcceptor(config: KerberosConfig, log: Logger): Promise<NegotiateAcceptor> {
  const service = gssServiceName(config.servicePrincipal);
  let status: KerberosStatus;
  let kerberos: KerberosModule | undefined;
  try {
    accessSync(config.keytab, constants.R_OK);
    kerberos = (await import('kerberos')) as KerberosModule;
    process.env.KRB5_KTNAME = `FILE:${config.keytab}`;
    if (service) {
      // Acquires acceptor credentials for the principal from the keytab: fails now, not at the first sign-in.
      const [name = '', host = ''] = service.split('@');
      const principal = await kerberos.principalDetails(name, host);
      status = { available: true, detail: `accepting tickets for ${principal}` };
    } else {
      status = { available: true, detail: 'accepting tickets for any principal in the keytab' };
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const detail = kerberos === undefined && !/ENOENT|EACCES/.test(message)
      ? `the kerberos module cannot load (${message}): install libkrb5-dev and rebuild (npm rebuild kerberos)`
      : `keytab ${config.keytab}: ${explainGssError(message)}`;
    status = { available: false, detail };
  }
  if (status.available) log.info({ keytab: config.keytab, detail: status.detail }, 'kerberos: ready');
  else log.error({ keytab: config.keytab, detail: status.detail }, 'kerberos: unavailable; everyone gets the password form');

  return {
    status: () => status,
    async accept(token) {
      if (!status.available || !kerberos) return { ok: false, reason: 'rejected', detail: status.detail };
      if (token.startsWith(NTLM_PREFIX)) return { ok: false, reason: 'ntlm', detail: 'an NTLM token (the client has no Kerberos ticket for this service)' };
      if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return { ok: false, reason: 'malformed', detail: 'not a base64 token' };
      try {
        const context = await kerberos.initializeServer(service);
        await context.step(token);
        // Kerberos over SPNEGO completes in one leg; anything else is not a ticket we can use.
        if (!context.contextComplete || !context.username) return { ok: false, reason: 'rejected', detail: 'the SPNEGO exchange did not complete in one step' };
        return { ok: true, principal: context.username, responseToken: context.response || undefined };
      } catch (err) {
        return { ok: false, reason: 'rejected', detail: explainGssError(err instanceof Error ? err.message : String(err)) };
      }
    },
  };
}
