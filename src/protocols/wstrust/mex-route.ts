import { Router } from 'express';
import type { Config } from '../../config/schema.js';

/** The MEX document at /adfs/services/trust/mex (entra-federation.md §3.4). (Being built: issue 8.) */
export function mexRoutes(_config: Config): Router {
  return Router();
}
