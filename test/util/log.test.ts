// Logging: calls below the current level return before winston is even created; enabled
// ones carry the child's bindings (inner ones winning) in winston's format; a level changed
// at run time applies at once.
import t from 'tap';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/util/log.js';

function capture(level: 'warn' | 'info' | 'debug') {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter((l) => l !== '')));
  let writes = 0;
  stream.on('data', () => { writes++; });
  const logger = createLogger({ level, json: true, stream });
  const settle = () => new Promise((r) => setImmediate(r));
  return { logger, lines, writes: () => writes, settle };
}

t.test('below the level: nothing is built or written, for root and child loggers', async (t) => {
  const { logger, lines, writes, settle } = capture('warn');
  const child = logger.child({ peer: 'Mesh_10_0_0_2' });
  for (let i = 0; i < 1000; i++) {
    child.debug('state change', { from: 'Idle', to: 'Connect' });
    child.info('session up');
    child.log('debug', 'BGP state', { i });
    logger.log('info', 'root info');
  }
  await settle();
  t.equal(writes(), 0, 'nothing reached the stream');
  t.same(lines, []);
});

t.test('at or above the level: written with the child bindings', async (t) => {
  const { logger, lines, settle } = capture('warn');
  const child = logger.child({ peer: 'Mesh_10_0_0_2' }).child({ family: 'ipv4' });
  child.warn('hold timer expired', { event: 'holdTimerExpired' });
  child.log('error', 'kernel refused', { code: 'EINVAL' });
  logger.log({ level: 'warn', message: 'info-object form' });
  await settle();
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  t.match(parsed, [
    { level: 'warn', message: 'hold timer expired', peer: 'Mesh_10_0_0_2', family: 'ipv4', event: 'holdTimerExpired' },
    { level: 'error', message: 'kernel refused', peer: 'Mesh_10_0_0_2', code: 'EINVAL' },
    { level: 'warn', message: 'info-object form' },
  ]);
});

t.test('a level changed at run time applies to existing children at once', async (t) => {
  const { logger, lines, settle } = capture('info');
  const child = logger.child({ module: 'fib' });
  child.debug('before');
  logger.level = 'debug';
  child.debug('after', { n: 1 });
  logger.level = 'warn';
  child.info('silenced again');
  await settle();
  t.same(lines.map((l) => (JSON.parse(l) as { message: string }).message), ['after']);
});

t.test('nested children merge their bindings, the inner one and the line winning; text format unchanged', async (t) => {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter((l) => l !== '')));
  const logger = createLogger({ level: 'info', stream });
  logger.child({ module: 'bgp', peer: 'a' }).child({ peer: 'b', conn: 'incoming' }).info('session up', { event: 'sessionUp', conn: 'outgoing' });
  logger.warn('plain');
  await new Promise((r) => setImmediate(r));
  t.match(lines[0], /^\d{4}-\d\d-\d\dT\S+ info session up \{"module":"bgp","peer":"b","conn":"outgoing","event":"sessionUp"\}$/);
  t.match(lines[1], /^\S+ warn plain$/);
  t.equal(lines.length, 2);
});

t.test('isLevelEnabled follows the root level; a silent logger enables nothing', async (t) => {
  const logger = createLogger({ level: 'warn' });
  const child = logger.child({ module: 'x' });
  t.ok(child.isLevelEnabled('error'));
  t.ok(child.isLevelEnabled('warn'));
  t.notOk(child.isLevelEnabled('info'));
  child.level = 'debug';
  t.equal(logger.level, 'debug', 'a level set through a child is the root level');
  t.ok(logger.isLevelEnabled('debug'));
  const silent = createLogger({ level: 'debug', silent: true });
  t.notOk(silent.isLevelEnabled('error'));
});
