import { describe, expect, it } from 'vitest';
import { classifyIp, inRange, parseCidr, parseIp } from '../../src/osl/policy/ip.js';

describe('ip', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1', 'loopback'],
    ['::ffff:127.0.0.1', '127.0.0.1', 'loopback'],
    ['[::ffff:7f00:1]', '127.0.0.1', 'loopback'],
    ['::1', '::1', 'loopback'],
    ['::', '::', 'unspecified'],
    ['64:ff9b::7f00:1', '127.0.0.1', 'loopback'],
    ['::127.0.0.1', '127.0.0.1', 'loopback'],
    ['169.254.169.254', '169.254.169.254', 'metadata'],
    ['169.254.1.1', '169.254.1.1', 'link-local'],
    ['fd00:ec2::254', 'fd00:ec2::254', 'metadata'],
    ['10.1.2.3', '10.1.2.3', 'private'],
    ['fe80::1%eth0', 'fe80::1', 'link-local'],
    ['8.8.8.8', '8.8.8.8', 'public'],
    ['2606:4700::1111', '2606:4700::1111', 'public'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8', 'public'],
  ])('ip — %s normalises to %s (%s)', (input, text, cls) => {
    const ip = parseIp(input)!;
    expect(ip.text).toBe(text);
    expect(classifyIp(ip)).toBe(cls);
  });

  it('ip — refuses things that are not address literals', () => {
    for (const bad of ['127.1', '0x7f.0.0.1', 'localhost', '1.2.3.4.5', ':::1', '']) {
      expect(parseIp(bad)).toBeUndefined();
    }
  });

  it('ip — matches CIDR ranges across spellings', () => {
    const lan = parseCidr('127.0.0.0/8')!;
    expect(inRange(parseIp('::ffff:127.9.9.9')!, lan)).toBe(true);
    expect(inRange(parseIp('128.0.0.1')!, lan)).toBe(false);
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
  });
});
