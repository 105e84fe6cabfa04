import { Router } from 'express';
import { principalClaims } from '../claims/principal-claims.js';
import { IdpError } from '../core/errors.js';
import type { SignInPipeline } from '../authn/sign-in-pipeline.js';
import { queryParam } from '../http/params.js';
import { requestContext } from '../http/request-context.js';
import type { RenderPage } from '../http/render.js';
import type { SessionCookie } from '../http/session-cookie.js';
import type { Sessions } from '../session/sessions.js';
import type { Resume, ShowSignIn } from '../authn/sign-in-steps.js';

/**
 * fedgate's own start page: what is configured, a sign-in link, and the signed-in person's claims.
 * Its sign-in goes through the same pipeline as any protocol ("portal" is the application), so it
 * doubles as the simplest end-to-end check of the pipeline.
 */
export interface DemoUser {
  readonly login: string;
  readonly password: string;
  readonly note: string;
}

export interface PortalDeps {
  readonly pipeline: SignInPipeline;
  readonly sessions: Sessions;
  readonly cookie: SessionCookie;
  readonly render: RenderPage;
  readonly directoryDescription: string;
  readonly applications: readonly { protocol: string; identifier: string; displayName?: string | undefined }[];
  readonly demoUsers: readonly DemoUser[];
  readonly netbiosDomain: string | undefined;
  /** The sign-in form, answered at /signin itself (sign-in-steps.ts). */
  readonly showSignIn: ShowSignIn;
}

const ENDPOINTS = [
  { name: 'Health (/healthz)', url: '/healthz' },
  { name: 'Readiness (/readyz)', url: '/readyz' },
];

export const PORTAL_RESUME_PATH = '/signin/resume';

export function portalRoutes(deps: PortalDeps): { router: Router; resume: Resume } {
  const router = Router();

  router.get('/', async (req, res) => {
    const session = await deps.sessions.use(deps.cookie.read(req));
    deps.render(req, res, 'home', {
      principal: session?.principal,
      claims: session ? principalClaims(session.principal, deps.netbiosDomain) : [],
      demoUsers: deps.demoUsers,
      directory: deps.directoryDescription,
      applications: deps.applications,
      endpoints: ENDPOINTS,
    });
  });

  /** `?fresh=1` asks for a new sign-in even with a session (as prompt=login does). */
  router.get('/signin', async (req, res) => {
    const result = await deps.pipeline.start({
      application: 'portal', resumePath: PORTAL_RESUME_PATH, forceFresh: queryParam(req, 'fresh') === '1',
      loginHint: queryParam(req, 'login_hint'),
    }, deps.cookie.read(req), requestContext(req));
    if (result.kind === 'login-required') await deps.showSignIn(req, res, result.pending);
    else res.redirect(303, '/');
  });

  const resume: Resume = async (_req, res, done) => {
    if (!done) throw new IdpError('signin_expired', 'This sign-in took too long or was already used. Start again from the start page.', 'resume without a completed pending sign-in');
    res.redirect(303, '/');
  };
  router.get(PORTAL_RESUME_PATH, async (req, res) => resume(req, res, await deps.pipeline.finish(queryParam(req, 'pending'), deps.cookie.read(req))));

  return { router, resume };
}
