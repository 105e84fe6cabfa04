/**
 * Every string a person reads on fedgate's pages, by key, so that a translation is one more object
 * of the same shape. English ships; `pickMessages` chooses by Accept-Language.
 */
export const en = {
  lang: 'en',
  signInTitle: 'Sign in',
  signInHeading: 'Sign in with your organisational account',
  usernameLabel: 'User name',
  usernameHint: 'someone@example.com or DOMAIN\\name',
  passwordLabel: 'Password',
  keepMeSignedIn: 'Keep me signed in',
  signInButton: 'Sign in',
  signingInTo: 'You are signing in to',
  help: 'Need help?',
  missingFields: 'Enter your user name and your password.',
  'invalid-credentials': 'Incorrect user name or password. Type the correct user name and password, and try again.',
  'locked-out': 'Your account is locked because of too many failed sign-in attempts. Try again later, or contact your help desk.',
  disabled: 'Your account has been disabled. Contact your help desk.',
  'account-expired': 'Your account has expired. Contact your help desk.',
  'password-expired': 'Your password has expired. Change your password, then sign in again.',
  'must-change-password': 'You must change your password before you can sign in. Change it, then sign in again.',
  'logon-hours': 'Your account is not allowed to sign in at this time.',
  workstation: 'Your account is not allowed to sign in from here.',
  'rate-limited': 'Too many sign-in attempts. Wait a few minutes, then try again.',
  'directory-unavailable': 'The sign-in service is temporarily unavailable. Please try again in a few minutes.',
  changePasswordLink: 'Change your password',
  idpInitiatedTitle: 'Sign in to an application',
  idpInitiatedIntro: 'Choose the application to sign in to.',
  idpInitiatedNone: 'No application can be opened from this page.',
  errorTitle: 'Sign-in error',
  errorHeading: 'Something went wrong',
  errorReference: 'Reference for your help desk:',
  errorHome: 'Back to the start page',
  signOutTitle: 'Sign out',
  signOutQuestion: 'Do you want to sign out?',
  signOutButton: 'Sign out',
  signedOutTitle: 'Signed out',
  signedOutMessage: 'You have signed out. Close your browser to finish.',
  signedOutOf: 'You were also signed out of:',
  continueTitle: 'Signing you in',
  continueMessage: 'If nothing happens, press Continue.',
  continueButton: 'Continue',
  negotiateContinue: 'Signing you in with your Windows account. If nothing happens, continue to the sign-in form.',
  homeTitle: 'fedgate',
  demoWarning: 'DEMO MODE: this fedgate runs on built-in demo users and a generated key. Do not use it in production.',
  demoUsers: 'Demo users',
  signedInAs: 'Signed in as',
  yourClaims: 'Your claims',
  notSignedIn: 'You are not signed in.',
  configuration: 'Configuration',
  directory: 'Directory',
  applications: 'Applications',
  noApplications: 'No applications are registered yet.',
  endpoints: 'Endpoints',
  // Error pages, by error code (src/core/errors.ts); codes whose message depends on the case
  // (unsupported_request, configuration) show the message the code gave.
  error_bad_request: 'The request could not be understood.',
  error_not_found: 'The page you asked for does not exist.',
  error_csrf_failed: 'Your session for this page has expired. Go back, reload the page and try again.',
  error_rate_limited: 'Too many sign-in attempts. Wait a few minutes, then try again.',
  error_signin_expired: 'This sign-in took too long or was already used. Go back to the application and start again.',
  error_unknown_application: 'The application you came from is not known to this sign-in service.',
  error_unregistered_reply_url: 'The application asked to send your sign-in to an address it has not registered. Contact the application owner.',
  error_directory_unavailable: 'The sign-in service is temporarily unavailable. Please try again in a few minutes.',
  error_state_unavailable: 'The sign-in service is temporarily unavailable. Please try again in a few minutes.',
  error_service_busy: 'The sign-in service is busy. Please try again in a few minutes.',
  error_internal: 'Something went wrong on our side.',
} as const;

export type MessageKey = keyof typeof en;
export type Messages = { readonly [K in MessageKey]: string };

const CATALOGS: Readonly<Record<string, Messages>> = { en };

/** The first language in Accept-Language that we ship, else English. */
export function pickMessages(acceptLanguage: string | undefined): Messages {
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = part.split(';')[0]?.trim().toLowerCase().split('-')[0];
    if (tag && CATALOGS[tag]) return CATALOGS[tag];
  }
  return en;
}
