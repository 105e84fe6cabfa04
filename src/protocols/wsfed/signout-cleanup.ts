import type { WsfedRelyingPartyConfig } from '../../config/schema.js';

/**
 * Where a WS-Fed application of an ending session is told to drop its own session:
 * wsignoutcleanup1.0 at its first reply URL, loaded in a hidden frame (entra-federation.md §1.7).
 * Every protocol's sign-out uses this, so a person signing out anywhere leaves no WS-Fed session behind.
 */
export interface CleanupTarget {
  readonly name: string;
  readonly cleanupUrl: string;
}

export function wsfedCleanupTargets(relyingParties: readonly WsfedRelyingPartyConfig[], sessionApplications: readonly string[],
  except?: string): CleanupTarget[] {
  const byRealm = new Map(relyingParties.map((rp) => [rp.identifier, rp]));
  return sessionApplications.flatMap((id) => {
    const rp = byRealm.get(id);
    if (!rp || id === except) return [];
    const url = new URL(rp.replyUrls[0]!);
    url.search = '';
    url.hash = '';
    url.searchParams.set('wa', 'wsignoutcleanup1.0');
    return [{ name: rp.displayName ?? rp.identifier, cleanupUrl: url.toString() }];
  });
}
