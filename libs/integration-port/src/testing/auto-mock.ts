/**
 * An auto-mocked dependency (Immich style) — a port, a store, a repository: every method is a jest.fn that fails
 * the test when called without a stub, so a test states each call it expects. It lives at the bottom layer so the
 * engine, the connectors and the app's service tests all share it.
 */
export function autoMock<T extends object>(name: string): jest.Mocked<T> {
  const mocks = new Map<PropertyKey, jest.Mock>();
  return new Proxy({} as jest.Mocked<T>, {
    get(_target, property) {
      if (property === 'then') return undefined;
      let mock = mocks.get(property);
      if (!mock) {
        mock = jest.fn((...args: unknown[]) => {
          throw new Error(
            `Unexpected call: ${name}.${String(property)}(${JSON.stringify(args).slice(0, 200)})`,
          );
        });
        mocks.set(property, mock);
      }
      return mock;
    },
  });
}
