import type { DirectoryConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Directory } from './directory.js';
import { createFileDirectory } from './file/file-directory.js';
import { createLdapDirectory } from './ldap/ldap-directory.js';

/** Builds the configured directory backend (called once, from the composition root). */
export function createDirectory(config: DirectoryConfig, log: Logger): Directory {
  const directoryLog = log.child({ component: 'directory' });
  const directory = config.type === 'ldap' ? createLdapDirectory(config, directoryLog) : createFileDirectory(config.path);
  directoryLog.info({ directory: directory.describe() }, 'directory configured');
  return directory;
}
