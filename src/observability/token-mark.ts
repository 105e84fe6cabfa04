export type TokenProtocol = 'wsfed' | 'saml' | 'wstrust' | 'oidc';

/**
 * What a response was, for the token metric, when its path does not tell: the sign-in form an
 * application's request was answered with (not a token answer: not counted), or the token the
 * sign-in form's POST was answered with (counted under its protocol). Set on res.locals.
 */
export interface TokenMetricMark {
  signInForm?: boolean;
  tokenProtocol?: TokenProtocol;
}

export function markResponse(res: { locals: Record<string, unknown> }, mark: TokenMetricMark): void {
  Object.assign(res.locals, mark);
}
