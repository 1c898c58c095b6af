import { describe, expect, it } from 'vitest';
import { memberColumnNames, memberOf, memberPages } from '../../src/core/activation/export-members';
import type { MemberRecord } from '../../src/core/activation/pii';

const COLUMNS = { identifiers: ['email', 'phone'], traits: ['plan', 'score'] };

async function* from(members: readonly MemberRecord[]) {
  yield* members;
}

async function pagesOf(members: readonly MemberRecord[], size: number): Promise<string[][]> {
  const pages: string[][] = [];
  for await (const page of memberPages(from(members), size)) pages.push(page.map((m) => m.profileId));
  return pages;
}

const member = (profileId: string): MemberRecord => ({ profileId, identifiers: {}, traits: {} });

describe('export members (the audience readers’ shared rules)', () => {
  it('names columns c0.. after the identifier types, then the traits', () => {
    expect(memberColumnNames(COLUMNS)).toEqual(['email', 'phone', 'plan', 'score']);
    const many = { identifiers: [], traits: Array.from({ length: 1000 }, (_, i) => `t${i}`) };
    expect(() => memberColumnNames(many)).toThrow(RangeError);
  });

  it('reads a member from its column values: missing ones left out, the rest as text, extra ones ignored', () => {
    expect(memberOf('p-1', ['a@example.com', null, 'pro', 42, 'member_count: 9'], COLUMNS)).toEqual({
      profileId: 'p-1',
      identifiers: { email: 'a@example.com' },
      traits: { plan: 'pro', score: '42' },
    });
    expect(memberOf('p-2', [undefined, '+16505551212'], COLUMNS)).toEqual({
      profileId: 'p-2',
      identifiers: { phone: '+16505551212' },
      traits: {},
    });
  });

  it('cuts members into pages of the size asked, the last one shorter', async () => {
    const ids = Array.from({ length: 7 }, (_, i) => `p-${i}`);
    expect(await pagesOf(ids.map(member), 3)).toEqual([
      ['p-0', 'p-1', 'p-2'],
      ['p-3', 'p-4', 'p-5'],
      ['p-6'],
    ]);
    expect(await pagesOf([], 3)).toEqual([]);
  });

  it('refuses members out of code-unit order, a profile twice, and a page size that is not a positive integer', async () => {
    await expect(pagesOf(['p-2', 'p-1'].map(member), 10)).rejects.toThrow(/profile-id order/);
    await expect(pagesOf(['p-1', 'p-1'].map(member), 10)).rejects.toThrow(/profile-id order/);
    // By UTF-8 bytes (an engine's order) U+FF5E comes before U+1F600; by code units it comes after
    // U+1F600's first surrogate (U+D83D).
    await expect(pagesOf(['p-\uFF5E', 'p-\u{1F600}'].map(member), 10)).rejects.toThrow(/profile-id order/);
    await expect(pagesOf([member('p-1')], 0)).rejects.toThrow(RangeError);
    await expect(pagesOf([member('p-1')], 1.5)).rejects.toThrow(RangeError);
  });
});
