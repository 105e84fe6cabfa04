import type { Config } from './config/schema.js';
import type { Directory } from './directory/directory.js';
import { createDirectory } from './directory/create-directory.js';
import { loadKeyStore, type KeyStore } from './keys/key-store.js';
import { createAudit, type Audit } from './observability/audit.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { instrumentDirectory, instrumentStore } from './observability/metrics-backends.js';
import type { Logger } from './observability/logger.js';
import type { DemoUser } from './portal/portal-routes.js';
import { createRateLimiter } from './authn/rate-limit.js';
import { createSignInPipeline, type SignInPipeline } from './authn/sign-in-pipeline.js';
import type { NegotiateDeps } from './authn/login-routes.js';
import { createNegotiateAcceptor } from './authn/kerberos/negotiate-acceptor.js';
import { createNegotiatePolicy } from './authn/kerberos/negotiate-policy.js';
import { createNetworkTest, type NetworkTest } from './http/client-network.js';
import { createSessions, type Sessions } from './session/sessions.js';
import { createMemoryStore } from './state/memory-store.js';
import { createRedisStore } from './state/redis-store.js';
import type { StateStore } from './state/state-store.js';
import type { oidcRoutes } from './protocols/oidc/oidc-routes.js';
import { createServiceProviderRegistry, type ServiceProviderRegistry } from './protocols/saml/service-providers.js';
import { checkSecretAgreement, derivationSecrets } from './keys/secret-agreement.js';

/**
 * The composition root: every backend is built once here and handed to the app. Nothing else
 * constructs a directory, a store or a key store.
 */
export interface Services {
  readonly config: Config;
  readonly log: Logger;
  readonly audit: Audit;
  readonly directory: Directory;
  readonly keys: KeyStore;
  readonly store: StateStore;
  readonly sessions: Sessions;
  readonly pipeline: SignInPipeline;
  /** Whether a client address is inside federation.internalNetworks (Kerberos, insidecorporatenetwork). */
  readonly isInternal: NetworkTest;
  /** Seamless Windows sign-in, when authn.kerberos is configured and enabled. */
  readonly negotiate: NegotiateDeps | undefined;
  /** Shown on the start page by the embedded demo only. */
  readonly demoUsers: readonly DemoUser[];
  /**
   * The OpenID Connect provider's routes, when a client (protocol oidc) is configured: loaded
   * only then, as oidc-provider warns on stderr when imported on Node 20.
   */
  readonly oidcRoutes: typeof oidcRoutes | undefined;
  /** The SAML service providers, their metadata read (files) or being fetched (URLs). */
  readonly serviceProviders: ServiceProviderRegistry;
  /** Secret of SAML persistent and transient NameIDs and SessionIndexes. */
  readonly samlNameIdSalt: string;
  /** Prometheus metrics of this process (served at /metrics; summed over workers by the cluster primary). */
  readonly metrics: Metrics;
}

export interface ServiceOverrides {
  readonly directory?: Directory;
  readonly store?: StateStore;
  readonly demoUsers?: readonly DemoUser[];
}

export async function buildServices(config: Config, log: Logger, overrides: ServiceOverrides = {}): Promise<Services> {
  const keys = await loadKeyStore(config, log);
  // SAML SPs named only by their metadata are known once the registry has read it (below).
  let serviceProviders: ServiceProviderRegistry | undefined;
  const metrics = createMetrics(config, keys, { applicationProtocol: (id) => (serviceProviders?.get(id) ? 'saml' : undefined) });
  const audit = createAudit(log, metrics.auditListener);
  const directory = instrumentDirectory(overrides.directory ?? createDirectory(config.directory, log), metrics);
  const store = instrumentStore(overrides.store ?? await createStateStore(config, log), metrics);
  const sessions = createSessions(store, {
    lifetimeMs: config.session.lifetime,
    idleTimeoutMs: config.session.idleTimeout,
    persistentLifetimeMs: config.session.keepMeSignedInLifetime,
  });
  const rateLimiter = createRateLimiter(store, {
    maxAttemptsPerIpPerMinute: config.signIn.maxAttemptsPerIpPerMinute,
    maxFailuresPerUser: config.signIn.maxFailuresPerUser,
    failureWindowMs: config.signIn.failureWindow,
    maxStartsPerIpPerMinute: config.signIn.maxStartsPerIpPerMinute,
    unfamiliarMaxFailuresPerUser: config.signIn.unfamiliarMaxFailuresPerUser,
    familiarAddressLifetimeMs: config.signIn.familiarAddressLifetime,
  });
  const pipeline = createSignInPipeline({
    directory, sessions, store, rateLimiter, audit,
    pendingLifetimeMs: config.signIn.pendingLifetime,
    allowKeepMeSignedIn: config.session.keepMeSignedIn,
  });
  const isInternal = createNetworkTest(config.federation.internalNetworks);
  const kerberos = config.authn.kerberos;
  const negotiate = kerberos?.enabled ? {
    acceptor: await createNegotiateAcceptor(kerberos, log.child({ component: 'kerberos' })),
    policy: createNegotiatePolicy(kerberos, isInternal),
  } : undefined;
  const oidc = config.relyingParties.some((rp) => rp.protocol === 'oidc') ? await import('./protocols/oidc/oidc-routes.js') : undefined;
  serviceProviders = await createServiceProviderRegistry(config, log.child({ component: 'saml' }));
  const secrets = derivationSecrets(config);
  const samlNameIdSalt = secrets['saml.persistentIdSalt']?.[0] ?? 'no-saml-service-providers';
  // Several nodes share a Redis: they must derive the same identifiers (secret-agreement.ts).
  if (config.state.type === 'redis') {
    try {
      await checkSecretAgreement(store, secrets);
    } catch (err) {
      serviceProviders.close();
      await Promise.allSettled([directory.close(), store.close()]);
      throw err;
    }
  }
  return {
    config, log, audit, directory, keys, store, sessions, pipeline, isInternal, negotiate, demoUsers: overrides.demoUsers ?? [],
    oidcRoutes: oidc?.oidcRoutes, serviceProviders, samlNameIdSalt, metrics,
  };
}

/** memory: this process only; redis: shared by every node and worker (config.state). */
function createStateStore(config: Config, log: Logger): Promise<StateStore> | StateStore {
  return config.state.type === 'redis' ? createRedisStore(config.state, log.child({ component: 'state' })) : createMemoryStore();
}

export async function closeServices(services: Services): Promise<void> {
  services.serviceProviders.close();
  await Promise.allSettled([services.directory.close(), services.store.close()]);
}
