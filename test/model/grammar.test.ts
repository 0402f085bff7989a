// The one parser of each grammar the Calico resources use (src/model).
import t from 'tap';
import { durationSeconds, isValidAs, parsePeerIP } from '../../src/model/index.js';

t.test('Go durations', async (t) => {
  const rows: [string, number][] = [['120s', 120], ['2m', 120], ['1m30s', 90], ['1.5h', 5400], ['1500ms', 2], ['0', 0], ['90s', 90], ['0.4s', 0]];
  for (const [text, want] of rows) t.equal(durationSeconds(text), want, text);
  for (const bad of ['', '10', '-5s', '5x', '1m 30s']) t.throws(() => durationSeconds(bad), { code: 'ERR_CONFIG_INVALID' }, bad);
});

t.test('peerIP forms', async (t) => {
  t.same(parsePeerIP('192.168.1.1'), { address: '192.168.1.1', family: 'ipv4' });
  t.same(parsePeerIP('192.168.1.1:1179'), { address: '192.168.1.1', family: 'ipv4', port: 1179 });
  t.same(parsePeerIP('[FD00::1]:1179'), { address: 'fd00::1', family: 'ipv6', port: 1179 });
  t.same(parsePeerIP('[fd00::1]'), { address: 'fd00::1', family: 'ipv6' });
  t.same(parsePeerIP('fd00::1'), { address: 'fd00::1', family: 'ipv6' });
  t.throws(() => parsePeerIP('[10.0.0.1]:179'));
  t.throws(() => parsePeerIP('192.168.1.1:70000'));
  t.throws(() => parsePeerIP('peer.example'));
  t.throws(() => parsePeerIP('fe80::1%eth0'), /IPv6 zone/, 'a zone is refused, not dropped');
  t.throws(() => parsePeerIP('[fe80::1%eth0]:179'), /IPv6 zone/);
  t.same(parsePeerIP('fe80::1'), { address: 'fe80::1', family: 'ipv6' }, 'accepted as Calico accepts it; the session is not started');
});

t.test('AS numbers: 1..4294967295', async (t) => {
  for (const ok of [1, 64512, 4294967295]) t.ok(isValidAs(ok), String(ok));
  for (const bad of [0, -1, 4294967296, 1.5, '64512', null]) t.notOk(isValidAs(bad), String(bad));
});

t.test('AS number text: plain or asdot, one grammar for resources and the AS variable', async (t) => {
  const { asNumberFromText, parseAsNumber } = await import('../../src/model/index.js');
  t.equal(asNumberFromText('64512'), 64512);
  t.equal(asNumberFromText('1.10'), 65546);
  t.equal(asNumberFromText('65535.65535'), 4294967295);
  for (const bad of ['0', '0.0', '4294967296', '65536.0', '1.65536', '-1', 'x', '', ' 64512']) t.equal(asNumberFromText(bad), undefined, JSON.stringify(bad));
  t.equal(parseAsNumber(' 64512 '), 64512, 'the AS variable is trimmed');
  t.throws(() => parseAsNumber('0'), { code: 'ERR_CONFIG_INVALID' });
});
