import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';
import proxyaddr from 'proxy-addr';

/** Whether an address (the `hop`-th from the socket) is one of our proxies. */
export type TrustProxy = (address: string, hop: number) => boolean;

/**
 * The trusted proxies' addresses and CIDR ranges (e.g. the ingress controller's pod range). Throws a TypeError
 * naming the entry when one is neither.
 */
export const trustedProxies = (cidrs: readonly string[]): TrustProxy => proxyaddr.compile([...cidrs]);

/**
 * The client behind the proxy chain: X-Forwarded-For is read right to left only while each hop is a trusted
 * proxy, and the first address that is not one is the client (entries further left are whatever the client
 * sent). A request whose socket peer is not a trusted proxy is its own client, whatever its headers say. An
 * entry that is not an address (a proxy that forwarded garbage) ends the chain at the proxy that passed it.
 */
export function clientAddress(incoming: IncomingMessage, trust: TrustProxy): string {
  const chain = proxyaddr.all(incoming, trust);
  const client = chain.at(-1);
  if (client !== undefined && ipaddr.isValid(client)) return client;
  return chain.at(-2) ?? 'unknown';
}

/**
 * The key a client is counted under: an IPv4 address itself (an IPv4-mapped IPv6 address as IPv4), an IPv6
 * address by its /64, the smallest allocation a subscriber gets (RFC 6177), which holds 2^64 addresses to
 * rotate through.
 */
export function clientKey(address: string): string {
  if (!ipaddr.isValid(address)) return 'unknown';
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  if (parsed.kind() === 'ipv4') return parsed.toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${parsed.toString()}/64`).toString()}/64`;
}
