import { CrmErrorCode, type ChangePage } from '@pm/integration-port';
import { RepeatedPageTokenError } from '@pm/connector-kit';
import { readAhead } from './contact-sync-runner';

const page = (id: string, next?: string): ChangePage => ({
  records: [{ id, object: 'contacts', modifiedAt: '2026-01-01T00:00:00Z', fields: {} }],
  deleted: [],
  nextPageToken: next,
});

describe('readAhead', () => {
  it('asks for the next page while the current one is being applied', async () => {
    const events: string[] = [];
    const pages: Record<string, ChangePage> = { first: page('1', 'p2'), p2: page('2', 'p3'), p3: page('3') };
    const fetchPage = async (token: string | undefined) => {
      events.push(`fetch ${token ?? 'first'}`);
      return pages[token ?? 'first'];
    };
    for await (const current of readAhead(fetchPage)) {
      events.push(`apply ${current.records[0].id}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(events).toEqual(['fetch first', 'fetch p2', 'apply 1', 'fetch p3', 'apply 2', 'apply 3']);
  });

  it('finishes the page in hand and fetches nothing more once asked to stop', async () => {
    const controller = new AbortController();
    let fetches = 0;
    const applied: string[] = [];
    const read = async () => {
      for await (const current of readAhead(async () => {
        fetches++;
        return page(String(fetches), `p${fetches + 1}`);
      }, controller.signal)) {
        applied.push(current.records[0].id);
        if (applied.length === 2) controller.abort();
      }
    };
    await expect(read()).rejects.toMatchObject({ code: CrmErrorCode.ABORTED });
    expect(applied).toEqual(['1', '2']);
    expect(fetches).toBe(3);
  });

  it('refuses a CRM that hands back a page token it already gave', async () => {
    const read = async () => {
      for await (const current of readAhead(async () => page('x', 'same'))) void current;
    };
    await expect(read()).rejects.toBeInstanceOf(RepeatedPageTokenError);
  });
});
