import type { OidcConfig } from '../../config/schema.js';
import { generatedSecret } from '../../keys/generated-secret.js';

/**
 * The provider's own secrets: the keys that sign its cookies and the salt of pairwise subjects.
 * Configured (oidc.cookieKeys, oidc.pairwiseSalt) or generated once under dataDir/oidc (mode
 * 0600) and kept: a new salt would change every pairwise sub, new cookie keys sign everyone out.
 */
export interface ProviderSecrets {
  readonly cookieKeys: string[];
  readonly pairwiseSalt: string;
}

export function loadProviderSecrets(config: OidcConfig, dataDir: string): ProviderSecrets {
  return {
    cookieKeys: config.cookieKeys ?? [generatedSecret(dataDir, 'oidc', 'cookie-key')],
    pairwiseSalt: config.pairwiseSalt ?? generatedSecret(dataDir, 'oidc', 'pairwise-salt'),
  };
}
