/**
 * The SAML service provider registry: each `relyingParties` entry with `protocol: saml` resolved
 * into the ServiceProvider the protocol code uses, its configuration merged with its metadata
 * (configured keys win). A metadata file is part of the configuration: a broken one stops fedgate
 * at start. A metadata URL is someone else's server: when it fails at start that one SP is
 * unavailable and fedgate starts anyway; it is fetched again on a schedule, and a failed refresh
 * keeps the last good metadata (an SP's web server being down must not lock its users out).
 */
import { readFile } from 'node:fs/promises';
import { federationIdentifier, SAML_NAMEID_FORMATS, type Config, type SamlNameIdFormat, type SamlServiceProviderConfig } from '../../config/schema.js';
import type { Logger } from '../../observability/logger.js';
import { DEFAULT_DIGEST_ALGORITHMS, DEFAULT_SIGNATURE_ALGORITHMS, XMLDSIG_ALGORITHMS } from '../../xml/verify-signed.js';
import type { ServiceProvider } from './service-provider.js';
import { MAX_METADATA_BYTES, readSpMetadata, type SpMetadata } from './sp-metadata.js';

export interface ServiceProviderRegistry {
  /** The SP with this entityID; undefined when unknown, not loaded (yet), or its metadata has expired. */
  get(entityId: string): ServiceProvider | undefined;
  list(): readonly ServiceProvider[];
  /** Stops the metadata refreshes (and aborts one in flight). */
  close(): void;
}

export interface ServiceProviderRegistryOptions {
  /** Global fetch by default; tests pass their own. */
  readonly fetch?: typeof fetch;
  /** Clock (ms since the epoch) for metadata validUntil. */
  readonly now?: () => number;
}

const FETCH_TIMEOUT_MS = 10_000;
/** After a failed fetch, try again sooner than metadataRefresh (6 h by default): an SP missing since start is an outage. */
const RETRY_AFTER_FAILURE_MS = 5 * 60_000;
const ALL_FORMATS = Object.keys(SAML_NAMEID_FORMATS) as SamlNameIdFormat[];

interface Slot {
  /** Position in relyingParties, for messages an operator can find in the file. */
  readonly index: number;
  readonly config: SamlServiceProviderConfig;
  current: ServiceProvider | undefined;
  validUntil: number | undefined;
  expiryLogged: boolean;
  timer: NodeJS.Timeout | undefined;
}

export async function createServiceProviderRegistry(config: Config, log: Logger, options: ServiceProviderRegistryOptions = {}): Promise<ServiceProviderRegistry> {
  const fetchImpl = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const closing = new AbortController();
  const slots: Slot[] = config.relyingParties.flatMap((rp, index) => (rp.protocol === 'saml'
    ? [{ index, config: rp, current: undefined, validUntil: undefined, expiryLogged: false, timer: undefined }]
    : []));
  const where = (slot: Slot) => `relyingParties[${slot.index}]`;
  let started = false;

  const install = (slot: Slot, metadata: SpMetadata | undefined, source: string): void => {
    slot.current = resolveServiceProvider(config, slot.config, metadata);
    slot.validUntil = metadata?.validUntil;
    slot.expiryLogged = false;
    log.info({ relyingParty: slot.index, entityId: slot.current.entityId, source, acs: slot.current.assertionConsumerServices.length }, 'SAML service provider loaded');
  };

  /** The entityID another slot holds or is configured for; a second SP under it would be ambiguous. */
  const heldBy = (entityId: string, except: Slot): Slot | undefined =>
    slots.find((s) => s !== except && (s.current?.entityId ?? s.config.identifier) === entityId);

  const loadUrl = async (slot: Slot, url: string): Promise<void> => {
    const metadata = readSpMetadata(await fetchCapped(fetchImpl, url, closing.signal), metadataOptions(slot.config, now()));
    if (closing.signal.aborted) return;
    const previous = slot.current?.entityId;
    // A changed entityID is another SP behind the same URL: never swapped in silently.
    if (previous !== undefined && metadata.entityId !== previous) throw new Error(`the metadata is now for entityID ${metadata.entityId}, no longer ${previous}: refused`);
    // At start the duplicate check below covers every SP at once (and fails creation).
    const other = started ? heldBy(metadata.entityId, slot) : undefined;
    if (other) throw new Error(`entityID ${metadata.entityId} is already ${where(other)}`);
    install(slot, metadata, `metadataUrl ${withoutQuery(url)}`);
  };

  const schedule = (slot: Slot, url: string, delay: number): void => {
    if (closing.signal.aborted) return;
    slot.timer = setTimeout(() => {
      loadUrl(slot, url).then(
        () => schedule(slot, url, slot.config.metadataRefresh),
        (err: unknown) => {
          if (closing.signal.aborted) return;
          const fields = { relyingParty: slot.index, url: withoutQuery(url), err: messageOf(err) };
          if (slot.current) log.warn({ ...fields, entityId: slot.current.entityId }, 'SAML SP metadata refresh failed: keeping the last good metadata');
          else log.error(fields, 'SAML SP metadata could not be loaded: the SP stays unavailable');
          schedule(slot, url, Math.min(slot.config.metadataRefresh, RETRY_AFTER_FAILURE_MS));
        },
      );
    }, delay);
    // A pending refresh must not keep the process alive (tests, the CLI, shutdown).
    slot.timer.unref();
  };

  const close = (): void => {
    closing.abort();
    for (const slot of slots) clearTimeout(slot.timer);
  };

  await Promise.all(slots.map(async (slot) => {
    const { metadataFile, metadataUrl } = slot.config;
    if (metadataUrl !== undefined) {
      try {
        await loadUrl(slot, metadataUrl);
        schedule(slot, metadataUrl, slot.config.metadataRefresh);
      } catch (err) {
        log.error({ relyingParty: slot.index, url: withoutQuery(metadataUrl), err: messageOf(err) }, 'SAML SP metadata could not be loaded: the SP is unavailable until a fetch succeeds');
        schedule(slot, metadataUrl, Math.min(slot.config.metadataRefresh, RETRY_AFTER_FAILURE_MS));
      }
      return;
    }
    try {
      const metadata = metadataFile === undefined ? undefined : readSpMetadata(await readFile(metadataFile), metadataOptions(slot.config, now()));
      install(slot, metadata, metadataFile === undefined ? 'configuration' : `metadataFile ${metadataFile}`);
    } catch (err) {
      close();
      throw new Error(`${where(slot)}${metadataFile === undefined ? '' : ` (metadataFile ${metadataFile})`}: ${messageOf(err)}`, { cause: err });
    }
  }));

  const byEntityId = new Map<string, Slot>();
  for (const slot of slots) {
    const entityId = slot.current?.entityId;
    if (entityId === undefined) continue;
    const first = byEntityId.get(entityId);
    if (first) {
      close();
      throw new Error(`${where(first)} and ${where(slot)} are both the SAML service provider ${entityId}: list its settings in one entry`);
    }
    byEntityId.set(entityId, slot);
  }
  started = true;

  /** Metadata must not be used past its validUntil (saml-metadata §2.2.1), even between refreshes. */
  const usable = (slot: Slot): ServiceProvider | undefined => {
    if (slot.validUntil === undefined || now() < slot.validUntil) return slot.current;
    if (!slot.expiryLogged) {
      slot.expiryLogged = true;
      log.error({ relyingParty: slot.index, entityId: slot.current?.entityId }, 'SAML SP metadata has expired (validUntil): the SP is unavailable until it is renewed');
    }
    return undefined;
  };

  return {
    // Looked up per request: a URL SP may appear, and its entry changes, after start.
    get: (entityId) => {
      const slot = slots.find((s) => s.current?.entityId === entityId);
      return slot ? usable(slot) : undefined;
    },
    list: () => slots.flatMap((s) => usable(s) ?? []),
    close,
  };
}

function metadataOptions(sp: SamlServiceProviderConfig, now: number) {
  return { entityId: sp.identifier, signingCertificate: sp.metadataSigningCertificate, now };
}

/** The configuration merged with the metadata: every configured key wins over what the metadata says. */
export function resolveServiceProvider(config: Config, sp: SamlServiceProviderConfig, metadata: SpMetadata | undefined): ServiceProvider {
  const entra = sp.profile === 'entra';
  const entityId = sp.identifier ?? metadata?.entityId;
  if (entityId === undefined) throw new Error('no entityID: set identifier, or metadataFile / metadataUrl');
  const assertionConsumerServices = sp.replyUrls.length > 0
    ? sp.replyUrls.map((url, index) => ({ url, index, isDefault: index === 0 }))
    : metadata?.assertionConsumerServices ?? [];
  if (assertionConsumerServices.length === 0) throw new Error('no assertion consumer service: set replyUrls, or give metadata');
  const signingCertificates = sp.signingCertificates.length > 0 ? sp.signingCertificates : metadata?.signingCertificates ?? [];
  const requireSignedRequests = sp.requireSignedRequests ?? metadata?.authnRequestsSigned ?? false;
  if (requireSignedRequests && signingCertificates.length === 0) {
    throw new Error('signed requests are required (requireSignedRequests or the metadata\'s AuthnRequestsSigned) but no signing certificate is configured or in the metadata');
  }
  const sha1 = sp.acceptSha1Requests;
  // Entra asks for persistent only (§2.3). Otherwise the formats the metadata lists (all when none),
  // and the configured default only if the SP lists it: sending a format the SP says it cannot take helps nobody.
  const listed = metadata?.nameIdFormats ?? [];
  const allowedNameIdFormats: SamlNameIdFormat[] = entra ? ['persistent'] : listed.length > 0 ? [...listed] : ALL_FORMATS;
  const nameIdFormat = allowedNameIdFormats.includes(sp.nameIdFormat) ? sp.nameIdFormat : allowedNameIdFormats[0]!;
  return {
    entityId,
    displayName: sp.displayName ?? entityId,
    profile: sp.profile,
    assertionConsumerServices,
    singleLogout: sp.singleLogoutUrl !== undefined
      ? { binding: sp.singleLogoutBinding, url: sp.singleLogoutUrl, responseUrl: sp.singleLogoutUrl }
      : metadata?.singleLogout,
    signingCertificates,
    encryptionCertificate: sp.encryptionCertificate ?? metadata?.encryptionCertificates[0],
    encryptionAlgorithm: sp.encryptionAlgorithm,
    requireSignedRequests,
    requestSignatureAlgorithms: sha1 ? [...DEFAULT_SIGNATURE_ALGORITHMS, XMLDSIG_ALGORITHMS.rsaSha1] : DEFAULT_SIGNATURE_ALGORITHMS,
    requestDigestAlgorithms: sha1 ? [...DEFAULT_DIGEST_ALGORITHMS, XMLDSIG_ALGORITHMS.sha1] : DEFAULT_DIGEST_ALGORITHMS,
    signResponse: sp.signResponse,
    signatureAlgorithm: sp.signatureAlgorithm,
    nameIdFormat,
    allowedNameIdFormats,
    nameIdClaim: sp.nameIdClaim,
    // Entra's sample (§2.3): one attribute, Name "IDPEmail", no NameFormat (unspecified), the UPN.
    attributes: entra ? [{ claim: 'upn', name: 'IDPEmail', friendlyName: undefined, nameFormat: 'unspecified' }] : sp.attributes.map((a) => ({ claim: a.claim, name: a.name, friendlyName: a.friendlyName, nameFormat: a.nameFormat })),
    tokenLifetimeMs: sp.tokenLifetime,
    allowIdpInitiated: sp.allowIdpInitiated,
    defaultRelayState: sp.defaultRelayState,
    domains: sp.domains,
    issuer: sp.issuer ?? federationIdentifier(config),
  };
}

/**
 * GETs the metadata within FETCH_TIMEOUT_MS and MAX_METADATA_BYTES, reading the body as a stream
 * and aborting past the cap: a hostile or broken server cannot make fedgate buffer without end.
 */
async function fetchCapped(fetchImpl: typeof fetch, url: string, closing: AbortSignal): Promise<Buffer> {
  const response = await fetchImpl(url, {
    signal: AbortSignal.any([closing, AbortSignal.timeout(FETCH_TIMEOUT_MS)]),
    headers: { accept: 'application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8' },
  });
  const tooLarge = () => new Error(`the metadata is larger than ${MAX_METADATA_BYTES} bytes`);
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status} from the metadata URL`);
  }
  if (Number(response.headers.get('content-length') ?? 0) > MAX_METADATA_BYTES) {
    await response.body?.cancel();
    throw tooLarge();
  }
  if (!response.body) throw new Error('the metadata URL answered without a body');
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    total += chunk.value.byteLength;
    if (total > MAX_METADATA_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(chunk.value);
  }
  return Buffer.concat(chunks);
}

/** A URL for the log: a query string may carry an access key. */
function withoutQuery(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

function messageOf(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return `no answer within ${FETCH_TIMEOUT_MS / 1000} s`;
  return err instanceof Error ? err.message : String(err);
}
