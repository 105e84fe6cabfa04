import type { Request, Response } from 'express';
import type { PendingSignIn } from '../core/pending-signin.js';
import type { FinishedSignIn } from './sign-in-pipeline.js';

/**
 * A browser's sign-in in two requests, as AD FS has it: the application's request (wsignin1.0, an
 * AuthnRequest) is answered with the sign-in form itself, and the form's POST with the protocol's
 * answer (the token page). Each saved hop is a round trip for someone far from fedgate and a
 * request's worth of CPU here.
 *
 * showSignIn: what a protocol answers when the pipeline says login-required (login-routes.ts): the
 * form, or where Kerberos is offered the Negotiate challenge, whose repeated request brings the ticket.
 * A request that may be answered only once (a SAML AuthnRequest, its ID spent) is challenged at
 * /login instead, since the browser's repeat of it would be refused as a replay.
 * Resume: how a protocol answers a finished sign-in, registered under its resumePath; the sign-in
 * POST calls it with the sign-in it just finished, and GET resumePath?pending= (after a redirect
 * the form could not avoid) with what pipeline.finish() gave (undefined: expired or not this browser's).
 */
export type ShowSignIn = (req: Request, res: Response, pending: PendingSignIn, request?: { readonly oneTime?: boolean }) => Promise<void>;

export type Resume = (req: Request, res: Response, done: FinishedSignIn | undefined) => Promise<void>;

/** Resume handlers by resume path: filled by the protocols, read by the sign-in form. */
export type Resumers = Map<string, Resume>;
