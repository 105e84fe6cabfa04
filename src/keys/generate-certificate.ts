// @peculiar/x509 resolves its algorithm providers through tsyringe, which needs this polyfill.
import 'reflect-metadata';
import { webcrypto, randomBytes } from 'node:crypto';
import * as x509 from '@peculiar/x509';

type CreateParams = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>;

/**
 * A self-signed RSA-2048 token-signing certificate, as AD FS generates ("ADFS Signing - host").
 * Built with @peculiar/x509 over Node's WebCrypto: no hand-written ASN.1 or cryptography.
 * The crypto provider is passed per call, never set globally.
 */
export async function generateSigningCertificate(host: string, validityMs: number): Promise<{ keyPem: string; certPem: string }> {
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const notBefore = new Date(Date.now() - 5 * 60_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '01' + randomBytes(15).toString('hex'),
      name: `CN=fedgate Signing - ${host}`,
      notBefore,
      notAfter: new Date(notBefore.getTime() + validityMs),
      keys: keys as unknown as CreateParams[0]['keys'],
      signingAlgorithm: algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ],
    },
    webcrypto as unknown as CreateParams[1],
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
  return { keyPem, certPem: cert.toString('pem') + '\n' };
}
