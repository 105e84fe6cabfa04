import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AUDIT_EVENT_TYPES, createAudit } from '../../src/observability/audit.js';
import { createLogger } from '../../src/observability/logger.js';

/**
 * docs/audit-events.md is the contract SIEMs are configured from: every event type the code emits,
 * every event field and every field of the line is documented, and every example is a real line.
 */
const DOC = readFileSync(new URL('../../docs/audit-events.md', import.meta.url), 'utf8');
const SRC = new URL('../../src/', import.meta.url).pathname;
const sources = (readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join(SRC, f), 'utf8'));
/** The first column of the markdown table under a heading. */
const tableFields = (heading: string) => {
  const section = DOC.slice(DOC.indexOf(`## ${heading}\n`)).split('\n## ')[0]!;
  return [...section.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]!);
};

describe('audit event documentation', () => {
  it('every type audited in the source is in AUDIT_EVENT_TYPES, and each of those has its section', () => {
    const emitted = new Set(sources.flatMap((text) => [...text.matchAll(/audit\(\{[^)]*?type: '([^']+)'/gs)].map((m) => m[1]!)));
    expect(emitted.size).toBeGreaterThan(0);
    for (const type of emitted) expect(AUDIT_EVENT_TYPES).toContain(type);
    const documented = [...DOC.matchAll(/^### `([^`]+)`$/gm)].map((m) => m[1]);
    expect(documented).toEqual([...AUDIT_EVENT_TYPES]);
  });

  it('every field of AuditEvent is in the event table, and only those', () => {
    const source = readFileSync(join(SRC, 'observability/audit.ts'), 'utf8');
    const body = /export interface AuditEvent \{([\s\S]*?)\n\}/.exec(source)![1]!;
    const fields = [...body.matchAll(/readonly (\w+)\??:/g)].map((m) => m[1]);
    expect(tableFields('The event').sort()).toEqual(fields.sort());
  });

  it('a line as written has exactly the documented fields, and every example is such a line', () => {
    let written = '';
    const sink = new Writable({ write(chunk: Buffer, _encoding, done) { written += chunk.toString(); done(); } });
    createAudit(createLogger('info', sink))({ type: 'signout', user: 'alice@example.com', clientIp: '192.0.2.1', requestId: 'r', application: 'portal' });
    const line = JSON.parse(written) as Record<string, unknown>;
    expect(Object.keys(line).sort()).toEqual(tableFields('The line').sort());
    const examples = [...DOC.matchAll(/```json\n(.*)\n```/g)].map((m) => JSON.parse(m[1]!) as { audit: boolean; event: { type: string }; msg: string });
    expect(examples.map((e) => e.event.type)).toEqual([...AUDIT_EVENT_TYPES]);
    for (const example of examples) {
      expect(Object.keys(example).sort()).toEqual(Object.keys(line).sort());
      expect(example.audit).toBe(true);
      expect(example.msg).toBe(example.event.type);
    }
  });

  it('lists the outcomes a refusal can carry', async () => {
    const { AUTH_FAILURES } = await import('../../src/directory/directory.js');
    for (const outcome of [...AUTH_FAILURES, 'address-limit', 'familiar-lockout', 'unfamiliar-lockout']) expect(DOC).toContain(`| \`${outcome}\` |`);
  });
});
