// libc through koffi: malloc_trim gives the free memory of malloc's arenas back to the kernel
// (the FIB calls it after a burst, src/fib/writer.ts).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { libc, libcUnavailable, mallocTrim } from '../../src/util/libc.js';

const rssAnonKb = (): number => Number(/RssAnon:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);

t.test('malloc_trim returns the pages of freed chunks that free() kept', { skip: libcUnavailable() }, async (t) => {
  const { lib } = libc();
  const malloc = lib.func('void *malloc(size_t size)');
  const free = lib.func('void free(void *ptr)');
  const memset = lib.func('void *memset(void *s, int c, size_t n)');
  // 2 000 chunks of 16 KiB (under the mmap threshold: they come from the heap), touched; every
  // 64th kept, so free() finds no free top to give back and the 31 MiB freed stay in the process
  const chunks: unknown[] = [];
  for (let i = 0; i < 2000; i++) {
    const p = malloc(16384) as unknown;
    memset(p, 1, 16384);
    chunks.push(p);
  }
  const kept = chunks.filter((_, i) => i % 64 === 63);
  for (let i = 0; i < chunks.length; i++) if (i % 64 !== 63) free(chunks[i]);
  const before = rssAnonKb();
  t.equal(mallocTrim(), true, 'libc offers malloc_trim');
  const after = rssAnonKb();
  t.ok(before - after >= 16 * 1024, `at least 16 MiB of the 31 MiB freed goes back (${before} → ${after} kB)`);
  for (const p of kept) free(p);
});
