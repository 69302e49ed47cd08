import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { clientAddress, clientKey, trustedProxies } from './client-address.js';

const from = (peer: string, forwardedFor?: string) =>
  ({
    socket: { remoteAddress: peer },
    connection: { remoteAddress: peer },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  }) as unknown as IncomingMessage;

describe('the client behind the proxy chain', () => {
  const trust = trustedProxies(['10.0.0.0/8', '127.0.0.1']);

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    assert.equal(clientAddress(from('198.51.100.7', '203.0.113.9'), trust), '198.51.100.7');
  });

  it('takes the right-most address that is not a trusted proxy, whatever the client put left of it', () => {
    assert.equal(clientAddress(from('10.1.2.3', '6.6.6.6, 198.51.100.7'), trust), '198.51.100.7');
    assert.equal(clientAddress(from('10.1.2.3', '6.6.6.6, 198.51.100.7, 10.9.9.9'), trust), '198.51.100.7');
  });

  it('uses the socket when no proxy is trusted', () => {
    assert.equal(clientAddress(from('10.1.2.3', '198.51.100.7'), trustedProxies([])), '10.1.2.3');
  });

  it('stops at the proxy that forwarded an entry that is not an address', () => {
    assert.equal(clientAddress(from('10.1.2.3', 'not-an-address'), trust), '10.1.2.3');
  });

  it('refuses a trusted-proxy entry that is neither an address nor a range', () => {
    assert.throws(() => trustedProxies(['10.0.0.0/33']), TypeError);
    assert.throws(() => trustedProxies(['proxy.internal']), TypeError);
  });
});

describe('the rate-limit key of a client', () => {
  it('counts an IPv6 /64 as one client', () => {
    assert.equal(clientKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
    assert.notEqual(clientKey('2001:db8:1:3::1'), clientKey('2001:db8:1:2::1'));
  });

  it('keeps IPv4 addresses apart and reads an IPv4-mapped IPv6 address as IPv4', () => {
    assert.equal(clientKey('198.51.100.7'), '198.51.100.7');
    assert.equal(clientKey('::ffff:198.51.100.7'), '198.51.100.7');
    assert.notEqual(clientKey('198.51.100.7'), clientKey('198.51.100.8'));
  });

  it('files anything else under one key', () => {
    assert.equal(clientKey('garbage'), 'unknown');
  });
});
