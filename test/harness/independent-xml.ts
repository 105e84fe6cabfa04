/**
 * An XML stack that is not fedgate's: node-saml's own @xmldom/xmldom 0.8 and xpath, resolved from
 * node-saml's install (fedgate parses with @xmldom 0.9). Tests read fedgate's documents with it the
 * way an SP or a client does, so a parser quirk of ours cannot agree with itself.
 */
import { createRequire } from 'node:module';

// Local shapes: importing xpath's own types would pull the DOM lib into the whole program.
export interface DomNode {
  readonly nodeType: number;
  readonly localName: string;
  readonly textContent: string | null;
  readonly childNodes: ArrayLike<DomNode>;
  getAttribute(name: string): string | null;
}
interface Dom08 {
  DOMParser: new (options: { errorHandler: Record<'warning' | 'error' | 'fatalError', (msg: string) => void> }) => {
    parseFromString(xml: string, mimeType: string): DomNode;
  };
}
interface XPath {
  useNamespaces(map: Record<string, string>): (expression: string, node: DomNode) => DomNode[];
}

const requireFromNodeSaml = createRequire(createRequire(import.meta.url).resolve('@node-saml/node-saml'));
export const { DOMParser } = requireFromNodeSaml('@xmldom/xmldom') as Dom08;
export const xpath = requireFromNodeSaml('xpath') as XPath;
