import { Counter, type Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import { AUTH_FAILURES } from '../directory/directory.js';
import type { AuditEvent, AuditListener } from './audit.js';

/** The protocol of an application identifier the configuration does not list, if any. */
export type ApplicationProtocol = (application: string) => string | undefined;

/** What each audited sign-in counts as; sign-outs are not sign-ins. */
function outcomeOf(event: AuditEvent): string | undefined {
  switch (event.type) {
    case 'signin.success': return 'success';
    case 'sso.reused': return 'sso';
    case 'signin.rate_limited': return 'rate-limited';
    case 'signin.directory_unavailable': return 'directory-unavailable';
    // The directory's outcome names (a closed list); anything else must not become a label value.
    case 'signin.failure': return (AUTH_FAILURES as readonly string[]).includes(event.outcome ?? '') ? event.outcome : 'failure';
    default: return undefined;
  }
}

/**
 * fedgate_signins_total from the audit events. The application is a configured identifier (realm,
 * entity ID, client_id) or "portal"; anything else is "other", so a label can never grow with
 * what clients send. Its protocol comes from the configuration: WS-Trust sign-ins count under
 * their WS-Fed relying party. An identifier two protocols share (Entra over WS-Fed for one domain,
 * SAML for another) is labelled with both, e.g. "wsfed|saml", rather than guessed.
 */
export function signInCounter(config: Config, registers: Registry[], lookup?: ApplicationProtocol): AuditListener {
  const configured = new Map<string, string>([['portal', 'portal']]);
  for (const rp of config.relyingParties) {
    if (rp.identifier === undefined) continue;
    const known = configured.get(rp.identifier);
    configured.set(rp.identifier, known === undefined || known === rp.protocol ? rp.protocol : `${known}|${rp.protocol}`);
  }
  const counter = new Counter({
    name: 'fedgate_signins_total', help: 'Sign-ins by protocol, application and outcome (success, sso, rate-limited, directory-unavailable, or the directory\'s refusal).',
    labelNames: ['protocol', 'application', 'outcome'], registers,
  });
  return (event) => {
    const outcome = outcomeOf(event);
    if (outcome === undefined) return;
    const id = event.application ?? 'portal';
    const protocol = configured.get(id) ?? lookup?.(id);
    counter.inc(protocol === undefined ? { protocol: 'unknown', application: 'other', outcome } : { protocol, application: id, outcome });
  };
}
