/** Fixed inputs for the WS-Fed token tests: the shape AD FS sends Entra (entra-federation.md §1.3). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Saml11AssertionInput } from '../../../src/protocols/wsfed/saml11-assertion.js';

export const ENTRA_AUDIENCE = 'urn:federation:MicrosoftOnline';
export const ISSUED = new Date('2023-09-18T08:25:25.982Z');
export const EXPIRES = new Date('2023-09-18T09:25:25.982Z');

export const entraAssertion: Saml11AssertionInput = {
  assertionId: '_79639b8f-1d4c-4f4e-9d0a-5b1e2c3d4e5f',
  issuer: 'http://example.com/adfs/services/trust/',
  issueInstant: ISSUED,
  notBefore: ISSUED,
  notOnOrAfter: EXPIRES,
  audience: ENTRA_AUDIENCE,
  nameIdentifier: { value: 'cBxVeG+XQECCbDIdvNJ4fg==', format: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified' },
  attributes: [
    { name: 'UPN', namespace: 'http://schemas.xmlsoap.org/claims', values: ['alice@example.com'] },
    { name: 'ImmutableID', namespace: 'http://schemas.microsoft.com/LiveID/Federation/2008/05', values: ['cBxVeG+XQECCbDIdvNJ4fg=='] },
    { name: 'authnmethodsreferences', namespace: 'http://schemas.microsoft.com/claims', values: ['urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'] },
  ],
  authenticationMethod: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
  authenticationInstant: new Date('2023-09-18T08:25:23.570Z'),
};

/** A golden file of test/protocols/wsfed/golden, its {{NAME}} placeholders filled in. */
export function golden(file: string, values: Readonly<Record<string, string>>): string {
  const text = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'golden', file), 'utf8');
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (_m, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`golden ${file}: no value for {{${name}}}`);
    return value;
  });
}
