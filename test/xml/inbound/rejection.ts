import { XmlRejectedError, type XmlRejectionReason } from '../../../src/xml/xml-rejected-error.js';

/** The XmlRejectedError reason `run` throws, or 'accepted'; any other error fails the test. */
export function rejectionOf(run: () => unknown): XmlRejectionReason | 'accepted' {
  try {
    run();
    return 'accepted';
  } catch (err) {
    if (err instanceof XmlRejectedError) return err.reason;
    throw err;
  }
}
