// The page's URL fragment (site/src/url-state.ts): a state survives the round trip, an edited
// listing travels compressed (deflate-raw, base64url), and a damaged or oversized one is refused
// with one line instead of breaking the page.
import {
  compressSource,
  decompressSource,
  DEFAULT_STATE,
  MAX_SOURCE_BYTES,
  readFragment,
  writeFragment,
} from '../../site/src/url-state';
import { getDesign } from '../../kernel-lib/designs';

test('a state round-trips through the fragment; schedules stay readable', async () => {
  const text = getDesign('linux-3.3').text.replace('lea 6*8(%rsp), %rdx', 'lea 6*8(%rsp), %rdx\n\tnop');
  const state = {
    ...DEFAULT_STATE,
    workload: 'syscall',
    schedule: 'rsp=0xffff880000203800,nmi@system_call+0x5#2',
    step: 17,
    source: text,
    depth: 3,
  };
  const compressed = await compressSource(text);
  expect(compressed).toMatch(/^[A-Za-z0-9_-]+$/);
  // Compressed and base64-encoded, the listing is still shorter than its text.
  expect(compressed.length).toBeLessThan(text.length * 0.7);
  const fragment = writeFragment(state, compressed);
  expect(fragment).toContain('s=rsp%3D0xffff880000203800,nmi@system_call%2B0x5%232');
  const back = await readFragment(fragment);
  expect(back.problems).toEqual([]);
  expect(back.state).toEqual(state);
});

test('defaults for what is missing; damaged parts are named', async () => {
  expect(await readFragment('')).toEqual({ state: DEFAULT_STATE, problems: [] });
  const r = await readFragment('#d=rfc-2011&at=-3&src=@@@');
  expect(r.state.design).toBe('rfc-2011');
  expect(r.state.step).toBeNull();
  expect(r.state.source).toBeNull();
  expect(r.problems).toEqual([
    'the edited listing in the link is damaged (not base64url)',
    "'at=-3' is not a step count",
  ]);
  await expect(decompressSource('AAAA')).rejects.toThrow('the edited listing in the link is damaged');
  const huge = await compressSource('x'.repeat(MAX_SOURCE_BYTES + 1));
  await expect(decompressSource(huge)).rejects.toThrow('larger than 256 KiB');
});
