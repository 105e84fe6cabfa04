import { isIPv4, isIPv6 } from 'node:net';

/**
 * What one client is, for per-address limits and familiar addresses: an IPv4 address, or an IPv6
 * /64 (one host usually has a whole /64 to pick addresses from, so a per-address limit would not
 * limit it).
 */
export function clientNetwork(address: string): string {
  const plain = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
  if (!isIPv6(plain)) return plain;
  const [head = '', tail = ''] = plain.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = plain.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => parseInt(g || '0', 16).toString(16)).join(':')}::/64`;
}
