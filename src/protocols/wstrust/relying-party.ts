import type { Config, WsfedRelyingPartyConfig } from '../../config/schema.js';
import { SoapFault } from './soap-fault.js';

/**
 * AppliesTo selects the WS-Fed relying party whose token is issued (entra-federation.md §3):
 * Entra's urn:federation:MicrosoftOnline or any registered WS-Fed realm, matched exactly (as
 * wtrealm is). Anything else is a fault: no token is issued for an audience nobody registered.
 */
export type RelyingPartyLookup = (appliesTo: string) => WsfedRelyingPartyConfig;

export function relyingPartyLookup(config: Config): RelyingPartyLookup {
  const byIdentifier = new Map(config.relyingParties
    .filter((rp): rp is WsfedRelyingPartyConfig => rp.protocol === 'wsfed')
    .map((rp) => [rp.identifier, rp]));
  return (appliesTo) => {
    const rp = byIdentifier.get(appliesTo);
    if (!rp) throw new SoapFault('request-failed', `unknown AppliesTo ${appliesTo}`);
    return rp;
  };
}
