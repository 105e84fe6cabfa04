import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * Whether a client address is inside the corporate network (federation.internalNetworks), with
 * node's own BlockList (no hand-written CIDR arithmetic). IPv4-mapped IPv6 addresses
 * (::ffff:10.1.2.3, what a dual-stack socket reports) are checked as IPv4.
 */
export type NetworkTest = (address: string) => boolean;

export function createNetworkTest(cidrs: readonly string[]): NetworkTest {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address = '', prefix] = cidr.split('/');
    const type = isIPv6(address) ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return (address) => {
    const plain = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
    if (isIPv4(plain)) return list.check(plain, 'ipv4');
    if (isIPv6(plain)) return list.check(plain, 'ipv6');
    return false;
  };
}
